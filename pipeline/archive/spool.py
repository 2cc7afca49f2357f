"""The spool: answers that could not land yet, kept durable beside the database.

When a reader holds the DuckDB file, the writer does not wait for it mid-round: it writes the
batch to `<db>.spool/` as a raw archive (format version 1, so `pipeline raw import` reads it
too), fsyncs it, and moves on. The next write session loads every spool file first, in one
transaction each, then deletes it; loading is idempotent (content-hashed raw rows, keyed
attempts), so a crash between commit and delete only loads a file twice to no effect.

Besides the archive's answer lines, a spool file carries what the archive format does not: each
answer line lists its `attempts`, and the end line lists `unanswered_attempts` (network errors)
and `clients` (the sightings). Unknown fields are ignored by archive readers.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.archive.format import FORMAT, VERSION, iso_utc, parse_answer
from pipeline.store import LandingBatch, Store
from pipeline.store.store import ATTEMPT_SCHEMA, CLIENT_SCHEMA, RAW_ROW_SCHEMA

SNAPSHOT_OUTCOMES = ("ok", "restricted")


def spool_dir_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".spool")


@dataclass
class Spool:
    """The spool folder of one database."""

    folder: Path

    @classmethod
    def beside(cls, db_path: Path) -> Spool:
        return cls(spool_dir_for(db_path))

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.ndjson"))

    def write(self, batch: LandingBatch) -> Path:
        """Write `batch` durably (fsync file and folder) and return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        final = self.folder / f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}.ndjson"
        partial = final.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            for line in _lines(batch):
                out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        partial.rename(final)  # the file appears only when complete
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return final

    def usable_clients(self, slot_start: datetime) -> set[int]:
        """Clients whose spooled answers for the slot can become a snapshot."""
        found: set[int] = set()
        for path in self.files():
            batch = read_batch(path)
            rows = batch.attempts.filter(
                (pl.col("slot_start") == slot_start) & pl.col("outcome").is_in(SNAPSHOT_OUTCOMES)
            )
            found.update(rows["client_number"].to_list())
        return found

    def load_into(self, store: Store) -> int:
        """Land every spool file (one transaction each) and delete it; return how many."""
        loaded = 0
        for path in self.files():
            store.land(read_batch(path))
            path.unlink()
            loaded += 1
        return loaded


def _lines(batch: LandingBatch) -> list[str]:
    attempts = batch.attempts.to_dicts()
    by_raw: dict[str, list[dict[str, Any]]] = {}
    unanswered = []
    for row in attempts:
        doc = _attempt_doc(row)
        if row["raw_id"] is None:
            unanswered.append(doc)
        else:
            by_raw.setdefault(row["raw_id"], []).append(doc)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": iso_utc(datetime.now(UTC)),
        "source": "spool",
        "selection": {"from": None, "to": None, "client": None},
    }
    lines = [json.dumps(header)]
    for row in batch.raw.to_dicts():
        lines.append(
            json.dumps(
                {
                    "raw_id": row["raw_id"],
                    "client_number": row["client_number"],
                    "slot_start": iso_utc(row["slot_start"]),
                    "observed_at": iso_utc(row["observed_at"]),
                    "http_status": row["http_status"],
                    "body": row["body"],
                    "body_encoding": row["body_encoding"],
                    "body_size": row["body_size"],
                    "body_truncated": row["body_truncated"],
                    "attempts": by_raw.get(row["raw_id"], []),
                },
                ensure_ascii=False,
            )
        )
    clients = [
        [row["client_number"], row["label"], iso_utc(row["seen_at"])]
        for row in batch.clients.to_dicts()
    ]
    lines.append(
        json.dumps(
            {
                "format": FORMAT,
                "end": True,
                "answers": batch.raw.height,
                "unanswered_attempts": unanswered,
                "clients": clients,
            },
            ensure_ascii=False,
        )
    )
    return lines


def _attempt_doc(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "slot_start": iso_utc(row["slot_start"]),
        "requested_at": iso_utc(row["requested_at"]),
    }


def _attempt_row(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        **doc,
        "slot_start": datetime.fromisoformat(doc["slot_start"]),
        "requested_at": datetime.fromisoformat(doc["requested_at"]),
    }


def read_batch(path: Path) -> LandingBatch:
    """A spool file back as the batch it was written from (answers re-hashed on the way)."""
    raw_rows: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    clients: list[dict[str, Any]] = []
    with path.open("rb") as stream:
        lines = stream.read().split(b"\n")
    for line in lines[1:]:
        if not line.strip():
            continue
        doc = json.loads(line)
        if doc.get("end") is True:
            attempts += [_attempt_row(a) for a in doc.get("unanswered_attempts", [])]
            clients += [
                {"client_number": n, "label": label, "seen_at": datetime.fromisoformat(seen)}
                for n, label, seen in doc.get("clients", [])
            ]
            continue
        answer = parse_answer(line)  # refuses a line altered after it was spooled
        raw_rows.append({name: getattr(answer, name) for name in RAW_ROW_SCHEMA.names()})
        attempts += [_attempt_row(a) for a in doc.get("attempts", [])]
    return LandingBatch(
        pl.DataFrame(raw_rows, schema=RAW_ROW_SCHEMA),
        pl.DataFrame(attempts, schema=ATTEMPT_SCHEMA),
        pl.DataFrame(clients, schema=CLIENT_SCHEMA),
    )
