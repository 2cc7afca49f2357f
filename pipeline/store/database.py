"""Opening the store the same way everywhere: a DuckDB file or a DuckLake on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline.settings import DEFAULT_LOCK_TIMEOUT_SECONDS
from pipeline.store.lake import apply_lake_ddl, is_lake, lake_ddl, lake_for, open_lake
from pipeline.store.lock import run_lock
from pipeline.store.sqlfiles import load_sql, sql_names

if TYPE_CHECKING:
    from pipeline.store.store import Store


def connect(
    target: Path | str, *, read_only: bool = False, lake_data_path: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the store; writers get the DDL applied, everyone gets UTC timestamps.

    `target` is a DuckDB file path or a DuckLake URL, `ducklake:postgres:<libpq conninfo>`
    (with `lake_data_path`, the folder or s3:// prefix of its files, to create one). Either way
    the contract's tables and views are the connection's default catalog, so the same SQL runs
    on both. Readers (notebooks, `pipeline query`) pass read_only=True: only the pipeline writes.

    Raises:
        FileNotFoundError: a reader asked for a DuckDB file that does not exist.
        ConfigurationError: a malformed DuckLake URL, or a lake that cannot be attached
            (`LakeUnavailable`), with what to do next.
    """
    lake = lake_for(target, lake_data_path)
    if lake is not None:
        con = open_lake(lake, read_only=read_only, prepare=None if read_only else _apply_lake_ddl)
        configure(con)
        return con
    path = Path(target)
    if read_only and not path.exists():
        raise FileNotFoundError(f"DuckDB file {path} does not exist; run `pipeline demo` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    configure(con)
    if not read_only:
        apply_ddl(con)
    return con


def configure(con: duckdb.DuckDBPyConnection) -> None:
    # Instants are stored as TIMESTAMPTZ; rendering them in UTC keeps slots readable.
    con.execute("set TimeZone = 'UTC'")


def ddl_statements() -> list[str]:
    """The DDL and view files' texts, in the order they apply (tables before views)."""
    return [load_sql(name) for name in sql_names("ddl") + sql_names("views")]


def _apply_lake_ddl(con: duckdb.DuckDBPyConnection) -> None:
    # The same files: tables without the key constraints DuckLake rejects, views unchanged.
    tables = [lake_ddl(load_sql(name)) for name in sql_names("ddl")]
    apply_lake_ddl(con, tables + [load_sql(name) for name in sql_names("views")])


def apply_ddl(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables (and views, when present); every statement is idempotent."""
    for statement in ddl_statements():
        con.execute(statement)


@contextmanager
def open_store(
    path: Path | str,
    *,
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    lake_data_path: str | None = None,
) -> Iterator[Store]:
    """The pipeline's writer. On a DuckDB file it holds the run lock, so writers queue instead
    of colliding; a lake admits many writers, so none is taken there."""
    from pipeline.store.store import Store  # lazily, as before: no import cycle either way

    guard = (
        nullcontext()
        if is_lake(path)
        else run_lock(Path(path), timeout_seconds=lock_timeout_seconds)
    )
    with guard:
        con = connect(path, lake_data_path=lake_data_path)
        try:
            yield Store(con)
        finally:
            con.close()
