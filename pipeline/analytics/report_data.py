"""What the report shows, read from a DuckDB file: one period, the house, the selected clients.

Every frame comes from `sql/report/*.sql` on a read-only connection whose tables are cut to the
report's period (`open_period`), so the views, coverage and fetch health all describe that
period. Money stays Decimal here; only charts turn it into floats, to draw.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline.analytics.readonly import open_readonly
from pipeline.settings import DEFAULT_READ_WAIT_SECONDS
from pipeline.store.database import WaitCallback
from pipeline.store.derived import derive_temporary
from pipeline.store.sqlfiles import load_sql
from pipeline.store.store import query_frame

# The tables the period cuts (each has slot_start); `clients` and the raw bodies are not needed.
SCOPED_TABLES = ("balance_snapshots", "balance_lines", "fetch_attempts")


class ReportError(ValueError):
    """The report cannot be made as asked; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class ReportScope:
    """What to report: a period of slots (bounds inclusive, None = open) and clients (none:
    the most eventful client of the period)."""

    start: datetime | None = None
    end: datetime | None = None
    clients: tuple[int, ...] = ()


@dataclass
class ClientData:
    client_number: int
    label: str | None
    lines: pl.DataFrame
    status: pl.DataFrame
    latest: pl.DataFrame
    locks: pl.DataFrame
    attribution: pl.DataFrame


@dataclass
class ReportData:
    db_path: Path
    scope: ReportScope
    overview: dict[str, Any]
    decimals: dict[str, int]
    house: pl.DataFrame
    rates: pl.DataFrame
    outliers: pl.DataFrame
    attribution: pl.DataFrame
    unreconciled: pl.DataFrame
    coverage: pl.DataFrame
    outcomes: pl.DataFrame
    clients: list[ClientData] = field(default_factory=list)


def parse_client(text: str, source: str) -> int:
    """A client number from `--client` or `PIPELINE_CLIENT`; one line naming `source` if not."""
    cleaned = text.strip()
    if not cleaned.isdigit():
        raise ReportError(f"{source}={text!r} is not a client number (digits, e.g. 500609)")
    return int(cleaned)


def open_period(
    db_path: Path,
    start: datetime | None,
    end: datetime | None,
    *,
    wait_seconds: float = DEFAULT_READ_WAIT_SECONDS,
    on_wait: WaitCallback | None = None,
) -> duckdb.DuckDBPyConnection:
    """A read-only connection whose snapshots, lines and attempts are those of [start, end].

    It keeps the pipeline's writer out while open: read, then close it (`reading`).
    """
    if start is not None and end is not None and start > end:
        raise ReportError(f"--from {start:%Y-%m-%d %H:%M} is after --to {end:%Y-%m-%d %H:%M}")
    con = open_readonly(db_path, wait_seconds=wait_seconds, on_wait=on_wait)
    if start is not None or end is not None:
        # Without bounds the stored tables serve as they are (no copy of a large file).
        for table in SCOPED_TABLES:
            con.execute(load_sql(f"report/scope_{table}"), {"start": start, "end": end})
        # The views read derived facts: those of the period alone, as its own history.
        derive_temporary(con)
    return con


@contextmanager
def reading(
    db_path: Path, start: datetime | None = None, end: datetime | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`open_period` for a `with` block: a notebook reads what it needs, then lets go of the
    file so the schedule's writer is not kept waiting while the kernel lives."""
    con = open_period(db_path, start, end)
    try:
        yield con
    finally:
        con.close()


def frame(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pl.DataFrame:
    """Run `sql/report/<name>.sql` with bound parameters; the rows as a polars frame."""
    return query_frame(con, load_sql(f"report/{name}"), params)


def choose_clients(known: pl.DataFrame, requested: tuple[int, ...]) -> list[int]:
    """The clients to show: those requested, each checked against the period; else the first
    of `known` (the most eventful)."""
    numbers = known["client_number"].to_list()
    if not requested:
        return numbers[:1]
    unknown = [c for c in requested if c not in numbers]
    if unknown:
        listed = ", ".join(str(c) for c in sorted(numbers)[:20]) or "none"
        more = " …" if len(numbers) > 20 else ""
        raise ReportError(
            f"client {', '.join(map(str, unknown))} has no snapshot in this period; "
            f"clients with one: {listed}{more}"
        )
    return list(dict.fromkeys(requested))


def client_data(con: duckdb.DuckDBPyConnection, client: int, label: str | None) -> ClientData:
    return ClientData(
        client_number=client,
        label=label,
        lines=frame(con, "client_lines", client=client),
        status=frame(con, "client_status", client=client),
        latest=frame(con, "client_latest", client=client),
        locks=frame(con, "client_locks", client=client),
        attribution=frame(con, "attribution", client=client),
    )


def collect(
    db_path: Path,
    scope: ReportScope,
    *,
    wait_seconds: float = DEFAULT_READ_WAIT_SECONDS,
    on_wait: WaitCallback | None = None,
) -> ReportData:
    """Read everything the report shows for `scope` from the file at db_path (read-only, one
    short connection)."""
    con = open_period(db_path, scope.start, scope.end, wait_seconds=wait_seconds, on_wait=on_wait)
    try:
        known = frame(con, "clients")
        chosen = choose_clients(known, scope.clients)
        labels = dict(zip(known["client_number"], known["label"], strict=True))
        overview = frame(con, "overview").row(0, named=True)
        decimals = frame(con, "currency_decimals")
        return ReportData(
            db_path=db_path,
            scope=scope,
            overview=overview,
            decimals=dict(zip(decimals["currency"], decimals["decimals"], strict=True)),
            house=frame(con, "house_totals"),
            rates=frame(con, "fx_rates"),
            outliers=frame(con, "fx_outliers"),
            attribution=frame(con, "attribution", client=None),
            unreconciled=frame(con, "unreconciled"),
            coverage=frame(con, "coverage_health"),
            outcomes=frame(con, "fetch_outcomes"),
            clients=[client_data(con, c, labels.get(c)) for c in chosen],
        )
    finally:
        con.close()
