"""Writes of the data contract: each method is one idempotent unit of work."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import polars as pl
import psycopg2
import pyarrow as pa

from pipeline.hyper.models import Exchange
from pipeline.normalize import NormalizedBatch
from pipeline.normalize.outcomes import Classified
from pipeline.store.derived import refresh_attempt_facts, refresh_derived
from pipeline.store.sqlfiles import load_sql

# The PostgreSQL advisory lock (in a lake's catalog database) that snapshot appends take, one at
# a time: DuckLake has no keys, and two shards ingesting the same slot at once both pass the
# anti-join and both insert (measured: 40 duplicate snapshots of 914 with four shards).
INGEST_LOCK_KEY = 0x6879706572_696E  # "hyper" "in"

UTC_TS = pl.Datetime("us", "UTC")
RAW_ROW_SCHEMA = pl.Schema(
    {
        "raw_id": pl.String(),
        "client_number": pl.Int64(),
        "slot_start": UTC_TS,
        "observed_at": UTC_TS,
        "http_status": pl.Int32(),
        "body": pl.String(),
        "body_encoding": pl.String(),
        "body_size": pl.Int64(),
        "body_truncated": pl.Boolean(),
    }
)
ATTEMPT_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "slot_start": UTC_TS,
        "client_number": pl.Int64(),
        "attempt": pl.Int32(),
        "requested_at": UTC_TS,
        "duration_ms": pl.Float64(),
        "http_status": pl.Int32(),
        "response_code": pl.Int32(),
        "outcome": pl.String(),
        "error": pl.String(),
        "raw_id": pl.String(),
    }
)


def arrow_frame(table: pa.Table) -> pl.DataFrame:
    """A polars frame over an Arrow table (zero-copy), typed as a frame."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object] | None = None
) -> pl.DataFrame:
    """Run one query with bound `$name` values; its rows as a polars frame (through Arrow).

    `con.execute(...)`, not `con.sql(..., params=...)`: on DuckDB 1.5.5 a relation with bound
    parameters hands its rows to Arrow 6-7 times slower (360,000 stored bodies: 3.7 s against
    0.5 s), and a query without parameters gains nothing from being a relation here.
    """
    return arrow_frame(con.execute(sql, dict(params or {})).to_arrow_table())


def raw_id_for(client_number: int, slot_start: datetime, observed_at: datetime, body: str) -> str:
    """A content hash: the same answer imported or landed twice gets the same id."""
    digest = hashlib.sha256()
    digest.update(f"{client_number}|{slot_start.isoformat()}|{observed_at.isoformat()}|".encode())
    digest.update(body.encode("utf-8"))
    return digest.hexdigest()[:32]


CLIENT_SCHEMA = pl.Schema(
    {"client_number": pl.Int64(), "label": pl.String(), "seen_at": UTC_TS},
)


@dataclass(frozen=True)
class LandingBatch:
    """What one landing writes: raw bodies, attempt rows, client sightings (polars frames)."""

    raw: pl.DataFrame
    attempts: pl.DataFrame
    clients: pl.DataFrame

    @property
    def answers(self) -> int:
        return self.attempts.height


# The fields of an exchange and of its classification that its rows carry.
_EXCHANGE_COLUMNS = (
    "client_number",
    "attempt",
    "requested_at",
    "observed_at",
    "duration_ms",
    "http_status",
    "body",
    "body_encoding",
    "body_size",
    "body_truncated",
)
_OUTCOME_COLUMNS = ("response_code", "outcome", "error")


def landing_batch(
    run_id: str,
    answers: Sequence[tuple[datetime, Exchange, Classified]],
    labels: Mapping[int, str | None],
) -> LandingBatch:
    """The rows (slot, exchange, classification) answers become; `labels` names the clients.

    Built once per landing from columns: a frame per answer (as the answers arrived) cost
    1.5-3 ms each in polars: about 4 s of a week's demo, and 15-30 s of a 10,000-client round.
    """
    columns: dict[str, list[Any]] = {
        "run_id": [run_id] * len(answers),
        "slot_start": [slot for slot, _, _ in answers],
        "raw_id": [
            raw_id_for(e.client_number, slot, e.observed_at, e.body) if e.body is not None else None
            for slot, e, _ in answers
        ],
    }
    columns |= {name: [getattr(e, name) for _, e, _ in answers] for name in _EXCHANGE_COLUMNS}
    columns |= {name: [getattr(c, name) for _, _, c in answers] for name in _OUTCOME_COLUMNS}
    frame = pl.DataFrame(columns, schema_overrides={**RAW_ROW_SCHEMA, **ATTEMPT_SCHEMA})
    raw = (
        frame.filter(pl.col("raw_id").is_not_null())
        .select(RAW_ROW_SCHEMA.names())
        .unique("raw_id", keep="first", maintain_order=True)
    )
    seen = sorted({(slot, e.client_number) for slot, e, _ in answers})
    clients = pl.DataFrame(
        {
            "client_number": [n for _, n in seen],
            "label": [labels.get(n) for _, n in seen],
            "seen_at": [slot for slot, _ in seen],
        },
        schema=CLIENT_SCHEMA,
    )
    return LandingBatch(raw, frame.select(ATTEMPT_SCHEMA.names()), clients)


@contextmanager
def advisory_lock(conninfo: str, key: int) -> Iterator[None]:
    """Hold PostgreSQL advisory lock `key` for the block; the session's end releases it."""
    session = psycopg2.connect(conninfo)
    try:
        session.autocommit = True
        with session.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s)", (key,))
        yield
    finally:
        session.close()


class Store:
    """The pipeline's writer over one open DuckDB connection (a short session).

    `ingest_lock` (on a lake) makes snapshot appends take turns across processes; a DuckDB
    file admits one writing process anyway.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        ingest_lock: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        self.con = con
        self.ingest_lock = ingest_lock or nullcontext

    @contextmanager
    def deferred_checkpoints(self) -> Iterator[None]:
        """Commits inside write the WAL only; the session's close checkpoints once.

        DuckDB checkpoints at a commit that leaves its WAL over 16 MB, and each checkpoint
        rewrites every row group the WAL touched: a long session of many large commits (a
        replay) paid that again and again. Measured on a replay of 4 days (273k lines): 26.9
        CPU-s with a checkpoint per commit, 17.0 with one at the end. For sessions that hold
        the file anyway; every commit stays durable in the WAL. No effect on a lake (no WAL).
        """
        self.con.execute("set checkpoint_threshold = '1TB'")
        try:
            yield
        finally:
            self.con.execute("reset checkpoint_threshold")

    def _run(self, name: str, params: dict[str, object] | None = None) -> duckdb.DuckDBPyConnection:
        # Every statement goes through here, by file name: one place to trace or interrupt.
        return self.con.execute(load_sql(name), params or {})

    def _count(self, name: str, params: dict[str, object] | None = None) -> int:
        """Run a statement whose one-row answer is a count (an insert's row count)."""
        row = self._run(name, params).fetchone()
        return int(row[0]) if row else 0

    def usable_clients_between(self, first: datetime, last: datetime) -> dict[datetime, set[int]]:
        """`usable_clients` for every slot in [first, last], in one query."""
        rows = self._run("store/clients_with_usable_answer", {"first": first, "last": last})
        found: dict[datetime, set[int]] = {}
        for slot, client in rows.fetchall():
            found.setdefault(slot, set()).add(client)
        return found

    def land(self, batch: LandingBatch) -> None:
        """Bodies, their attempt rows and the clients' sightings, in one transaction.

        Rows go in as one Arrow batch per table: a parameterized statement per row costs
        milliseconds in DuckDB, and every commit syncs the file. Idempotent: raw_id is a content
        hash and attempts are keyed by (run, slot, client, attempt).
        """
        self._with_frames(
            {
                "incoming_raw": batch.raw,
                "incoming_attempts": batch.attempts,
                "incoming_clients": batch.clients,
            },
            [
                "store/insert_raw_responses",
                "store/insert_fetch_attempts",
                "store/insert_client_sightings",
            ],
        )

    @contextmanager
    def transaction(self, frames: Mapping[str, pl.DataFrame] | None = None) -> Iterator[None]:
        """One DuckDB transaction, with `frames` registered as views for its statements.

        Commits when the block ends, rolls back on any exception (a crash included).
        """
        frames = frames or {}
        for name, frame in frames.items():
            self.con.register(name, frame.to_arrow())
        self.con.execute("begin transaction")
        try:
            yield
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        finally:
            for name in frames:
                self.con.unregister(name)

    def _with_frames(self, frames: dict[str, pl.DataFrame], statements: list[str]) -> None:
        """Run statements over registered frames in one transaction."""
        with self.transaction(frames):
            for statement in statements:
                self._run(statement)

    def pending_raw(self, slot_from: datetime, slot_to: datetime) -> pl.DataFrame:
        """Bodies in [slot_from, slot_to) that could hold a snapshot and have none yet."""
        return self.frame("store/pending_raw", {"from": slot_from, "to": slot_to})

    def frame(self, name: str, params: dict[str, object] | None = None) -> pl.DataFrame:
        """Run a query file and return its result as a polars frame (through Arrow)."""
        return query_frame(self.con, load_sql(name), params)

    def append_snapshots(
        self, batch: NormalizedBatch, slot_from: datetime, slot_to: datetime
    ) -> tuple[int, int]:
        """Append snapshots and their lines, skipping (client, slot)s stored, and refresh the
        derived facts of [slot_from, slot_to), all in one transaction.

        The batch's snapshots must lie in the range; the range is refreshed even when the batch
        is empty, since its slots' attempts (a round where every client failed) feed coverage
        and fetch health. When nothing new was stored, that is all that can be behind, and a
        re-run of complete slots writes nothing (derived.refresh_attempt_facts).

        Returns:
            (snapshots inserted, lines inserted).
        """
        frames = {"incoming_snapshots": batch.snapshots, "incoming_lines": batch.lines}
        # The lock before the transaction: its snapshot then sees every earlier append. On a
        # lake it also keeps the derived tables' rewrites of concurrent shards apart.
        with self.ingest_lock(), self.transaction(frames):
            snapshots = lines = 0
            if not batch.snapshots.is_empty():
                self._run("store/stage_fresh_snapshots")
                snapshots = self._count("store/insert_snapshots")
                every_one = snapshots == batch.snapshots.height  # the usual case
                lines = self._count(
                    "store/insert_lines" if every_one else "store/insert_fresh_lines"
                )
                self._run("store/touch_clients")
            if snapshots:
                refresh_derived(self.con, slot_from, slot_to)
            else:  # nothing stored: only the facts of the range's attempts can be behind
                refresh_attempt_facts(self.con, slot_from, slot_to)
        return snapshots, lines

    def round_outcomes(self, run_id: str, slot_from: datetime, slot_to: datetime) -> dict[str, int]:
        """Clients per final outcome in one run's window, `already_complete` for the skipped."""
        params = {"run_id": run_id, "from": slot_from, "to": slot_to}
        return dict(self._run("store/round_outcomes", params).fetchall())

    def table_counts(self) -> dict[str, int]:
        return dict(self._run("store/table_counts").fetchall())
