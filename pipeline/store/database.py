"""Opening DuckDB files the same way everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline.settings import DEFAULT_LOCK_TIMEOUT_SECONDS
from pipeline.store.derived import ensure_derived
from pipeline.store.lock import run_lock
from pipeline.store.sqlfiles import load_sql, sql_names


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file; writers get the DDL applied, everyone gets UTC timestamps.

    Readers (notebooks, `pipeline query`) pass read_only=True: only the pipeline writes.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"DuckDB file {path} does not exist; run `pipeline demo` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    configure(con)
    if not read_only:
        apply_ddl(con)
        # A file from before the derived tables: build them once from its history.
        ensure_derived(con)
    return con


def configure(con: duckdb.DuckDBPyConnection) -> None:
    # Instants are stored as TIMESTAMPTZ; rendering them in UTC keeps slots readable.
    con.execute("set TimeZone = 'UTC'")


def apply_ddl(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables (and views, when present); every statement is idempotent."""
    for name in sql_names("ddl") + sql_names("views"):
        con.execute(load_sql(name))


@contextmanager
def open_store(
    path: Path | str, *, lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
) -> Iterator[Store]:  # noqa: F821 - imported lazily below
    """The pipeline's writer: holds the run lock, so writers queue instead of colliding."""
    from pipeline.store.store import Store

    with run_lock(Path(path), timeout_seconds=lock_timeout_seconds):
        con = connect(path)
        try:
            yield Store(con)
        finally:
            con.close()
