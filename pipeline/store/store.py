"""Writes of the data contract: each method is one idempotent unit of work."""

from __future__ import annotations

import hashlib
from datetime import datetime

import duckdb
import polars as pl

from pipeline.hyper.models import Exchange
from pipeline.normalize import NormalizedBatch
from pipeline.outcomes import Classified
from pipeline.sqlfiles import load_sql


def raw_id_for(client_number: int, slot_start: datetime, observed_at: datetime, body: str) -> str:
    """A content hash: the same answer imported or landed twice gets the same id."""
    digest = hashlib.sha256()
    digest.update(f"{client_number}|{slot_start.isoformat()}|{observed_at.isoformat()}|".encode())
    digest.update(body.encode("utf-8"))
    return digest.hexdigest()[:32]


class Store:
    """The pipeline's writer over one open DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def _run(self, name: str, params: dict | None = None) -> duckdb.DuckDBPyConnection:
        # Every statement goes through here, by file name: one place to trace or interrupt.
        return self.con.execute(load_sql(name), params or {})

    def register_client(self, client_number: int, label: str | None, slot_start: datetime) -> None:
        self._run(
            "store/upsert_client_label",
            {"client_number": client_number, "label": label, "seen_at": slot_start},
        )

    def clients_with_snapshot(self, slot_start: datetime) -> set[int]:
        rows = self._run("store/clients_with_snapshot", {"slot_start": slot_start}).fetchall()
        return {row[0] for row in rows}

    def record_exchanges(
        self, run_id: str, slot_start: datetime, items: list[tuple[Exchange, Classified]]
    ) -> list[str | None]:
        """Land bodies and their attempt rows in one transaction; return the raw_ids.

        Batching matters: every DuckDB commit syncs the file, and one per request would cap a
        round near a hundred requests per second.
        """
        raw_ids: list[str | None] = []
        self.con.execute("begin transaction")
        try:
            for exchange, classified in items:
                raw_ids.append(self._record(run_id, slot_start, exchange, classified))
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        return raw_ids

    def _record(
        self, run_id: str, slot_start: datetime, exchange: Exchange, classified: Classified
    ) -> str | None:
        raw_id = None
        if exchange.body is not None:
            raw_id = raw_id_for(
                exchange.client_number, slot_start, exchange.observed_at, exchange.body
            )
            self._run(
                "store/insert_raw_response",
                {
                    "raw_id": raw_id,
                    "client_number": exchange.client_number,
                    "slot_start": slot_start,
                    "observed_at": exchange.observed_at,
                    "http_status": exchange.http_status,
                    "body": exchange.body,
                    "body_encoding": exchange.body_encoding,
                    "body_size": exchange.body_size,
                    "body_truncated": exchange.body_truncated,
                },
            )
        self._run(
            "store/insert_fetch_attempt",
            {
                "run_id": run_id,
                "slot_start": slot_start,
                "client_number": exchange.client_number,
                "attempt": exchange.attempt,
                "requested_at": exchange.requested_at,
                "duration_ms": exchange.duration_ms,
                "http_status": exchange.http_status,
                "response_code": classified.response_code,
                "outcome": classified.outcome,
                "error": classified.error,
                "raw_id": raw_id,
            },
        )
        return raw_id

    def pending_raw(self, slot_from: datetime, slot_to: datetime) -> pl.DataFrame:
        """Bodies in [slot_from, slot_to) that could hold a snapshot and have none yet."""
        return self.frame("store/pending_raw", {"from": slot_from, "to": slot_to})

    def frame(self, name: str, params: dict | None = None) -> pl.DataFrame:
        """Run a query file and return its result as a polars frame (through Arrow)."""
        return pl.from_arrow(self.con.sql(load_sql(name), params=params or {}).to_arrow_table())

    def append_snapshots(self, batch: NormalizedBatch) -> tuple[int, int]:
        """Append snapshots and their lines in one transaction; skip (client, slot)s stored.

        Returns:
            (snapshots inserted, lines inserted).
        """
        if batch.snapshots.is_empty():
            return 0, 0
        self.con.register("incoming_snapshots", batch.snapshots.to_arrow())
        self.con.register("incoming_lines", batch.lines.to_arrow())
        self.con.execute("begin transaction")
        try:
            self._run("store/stage_fresh_snapshots")
            snapshots = self._run("store/insert_snapshots").fetchone()[0]
            lines = self._run("store/insert_lines").fetchone()[0]
            self._run("store/touch_clients")
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        finally:
            self.con.unregister("incoming_snapshots")
            self.con.unregister("incoming_lines")
        return snapshots, lines

    def table_counts(self) -> dict[str, int]:
        return dict(self._run("store/table_counts").fetchall())
