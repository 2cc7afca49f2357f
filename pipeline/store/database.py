"""Opening the database the same way everywhere, and waiting (not failing) when it is busy.

DuckDB admits one writing process or many reading processes, never both at once. So writers
hold the file only for short transactions, and both sides wait with backoff when the other
holds it: a reader up to PIPELINE_READ_WAIT_SECONDS, a writer up to its own wait, after which
it raises `DatabaseBusy` (the round then spools what it could not land).

The store is a DuckDB file or a DuckLake on PostgreSQL (`ducklake:postgres:<libpq conninfo>`):
the same tables and views either way. A lake admits many writers and readers at once, so
neither the run lock nor the waiting applies to it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline.settings import DEFAULT_LOCK_TIMEOUT_SECONDS, DEFAULT_READ_WAIT_SECONDS, Settings
from pipeline.store.derived import ensure_derived
from pipeline.store.lake import apply_lake_ddl, is_lake, lake_ddl, lake_for, open_lake
from pipeline.store.lock import run_lock
from pipeline.store.migrations import SchemaTooNew as SchemaTooNew  # the CLI maps it to exit 2
from pipeline.store.migrations import prepare_schema, require_known, transaction
from pipeline.store.sqlfiles import load_sql, sql_names

if TYPE_CHECKING:
    from pipeline.store.store import Store

# Backoff between attempts to open a busy file: short first (a writer's batch takes tens of
# milliseconds), then up to half a second.
_FIRST_BACKOFF_SECONDS = 0.02
_MAX_BACKOFF_SECONDS = 0.5
# DuckDB's buffer pool for a pipeline writer on a file (DuckDB's default is 80 % of RAM). A
# replay or a long ingest reads the whole history through its session, and the pool kept what
# it read: a full replay of 1M responses peaked at 1.47 GB, at 872 MB with this cap (DuckDB
# evicts clean blocks, and spills what a query needs beyond it to a .tmp folder). Analysts'
# read-only connections keep DuckDB's default: a big question may need the memory.
WRITER_MEMORY_LIMIT = "512MB"
# Files whose DDL this process has applied, by (path, inode): views and tables are created once
# per process and file, not on every short write transaction.
_PREPARED: set[tuple[str, int]] = set()

WaitCallback = Callable[[Path], None]


class DatabaseBusy(RuntimeError):
    """Another process held the database for longer than we were willing to wait."""


class DatabaseMissing(FileNotFoundError):
    """A command that must not create a database was pointed at a path holding none."""


def is_lock_conflict(exc: BaseException) -> bool:
    """DuckDB's answer when another process holds the file in a conflicting mode."""
    text = str(exc)
    return isinstance(exc, duckdb.IOException) and (
        "Could not set lock" in text or "Conflicting lock" in text
    )


def require_database(path: Path | str) -> Path:
    """The path, if it holds a DuckDB database; otherwise one clear line (no empty file made).

    Raises:
        DatabaseMissing: the path does not exist, is a folder, or is not a DuckDB file.
    """
    if is_lake(path):
        return Path(path)  # a lake's catalog is checked when it is attached
    path = Path(path)
    if not path.exists():
        raise DatabaseMissing(
            f"database {path} does not exist; check PIPELINE_DB / --db, or run `pipeline demo` "
            "first (`pipeline run` and `pipeline raw import` create one too)"
        )
    if path.is_dir():
        raise DatabaseMissing(f"database {path} is a folder, not a DuckDB file")
    with path.open("rb") as handle:
        head = handle.read(16)
    # A DuckDB file carries its magic bytes at offset 8.
    if head[8:12] != b"DUCK":
        raise DatabaseMissing(f"{path} is not a DuckDB database file")
    return path


def connect(
    path: Path | str,
    *,
    read_only: bool = False,
    wait_seconds: float = 0.0,
    on_wait: WaitCallback | None = None,
    lake_data_path: str | None = None,
    s3_endpoint: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the store; writers get the DDL applied, everyone gets UTC timestamps.

    `path` is a DuckDB file or a DuckLake URL, `ducklake:postgres:<libpq conninfo>` (with
    `lake_data_path`, the folder or s3:// prefix of its files, to create one). Readers
    (notebooks, `pipeline query`) pass read_only=True: only the pipeline writes. When another
    process holds a file, retry with backoff for up to `wait_seconds` (`on_wait` is told once,
    so a front end can say it is waiting).

    Raises:
        DatabaseMissing: read-only, and there is no database at `path`.
        DatabaseBusy: the file stayed locked by another process for the whole wait.
        ConfigurationError: a malformed DuckLake URL, or a lake that cannot be attached.
        SchemaTooNew: a newer release wrote the file (checked on every open: another process
            may have upgraded it since this one last looked).
    """
    lake = lake_for(path, lake_data_path, s3_endpoint)
    if lake is not None:
        con = open_lake(lake, read_only=read_only, prepare=None if read_only else _apply_lake_ddl)
        configure(con)
        return con
    path = Path(path)
    if read_only:
        require_database(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open_waiting(path, read_only=read_only, wait_seconds=wait_seconds, on_wait=on_wait)
    try:
        configure(con)
        if not read_only:
            con.execute(f"set memory_limit = '{WRITER_MEMORY_LIMIT}'")  # a constant, not input
        _check_schema(con, path, read_only=read_only)
    except BaseException:
        con.close()
        raise
    return con


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool) -> None:
    """Refuse a newer schema; a writer upgrades an older one, once per process and file."""
    key = (str(path.resolve()), os.stat(path).st_ino)
    if read_only or key in _PREPARED:
        require_known(con, path)
        return
    apply_ddl(con, path)
    _PREPARED.add(key)


def _open_waiting(
    path: Path, *, read_only: bool, wait_seconds: float, on_wait: WaitCallback | None
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    backoff = _FIRST_BACKOFF_SECONDS
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not is_lock_conflict(exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                who = "a writer" if read_only else "another process (a reader or a writer)"
                raise DatabaseBusy(
                    f"database {path} is held by {who}; gave up after {wait_seconds:g} s "
                    f"({'PIPELINE_READ_WAIT_SECONDS' if read_only else 'the writer wait'})"
                ) from None
            if not told and on_wait is not None:
                on_wait(path)
                told = True
            time.sleep(min(backoff, left))
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)


def configure(con: duckdb.DuckDBPyConnection) -> None:
    # Instants are stored as TIMESTAMPTZ; rendering them in UTC keeps slots readable.
    con.execute("set TimeZone = 'UTC'")


def ddl_statements() -> list[str]:
    """The DDL and view files' texts, in the order they apply (tables before views)."""
    return [load_sql(name) for name in sql_names("ddl") + sql_names("views")]


def apply_ddl(con: duckdb.DuckDBPyConnection, path: Path | str = "the database") -> None:
    """Bring the schema to this release's version (pipeline.store.migrations), then the views.

    Raises:
        SchemaTooNew: the database is newer than this release.
    """
    prepare_schema(con, path)
    for name in sql_names("views"):
        con.execute(load_sql(name))
    # A file from before the derived tables: compute them once from its history.
    with transaction(con):
        ensure_derived(con)


def _apply_lake_ddl(con: duckdb.DuckDBPyConnection) -> None:
    # The same files: tables without the key constraints DuckLake rejects, views unchanged.
    tables = [lake_ddl(load_sql(name)) for name in sql_names("ddl")]
    apply_lake_ddl(con, tables + [load_sql(name) for name in sql_names("views")])


@dataclass(frozen=True)
class Database:
    """Where the pipeline writes, and how long each kind of access may wait for it.

    Every `writer()` is a short session: take the run lock, open, work, close. Nothing slow
    (HTTP above all) happens inside one, so readers find the file free nearly all the time.
    """

    path: Path
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    read_wait_seconds: float = DEFAULT_READ_WAIT_SECONDS
    lake_data_path: str | None = None
    s3_endpoint: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The store `settings` configure (PIPELINE_DB and its waits, lake data path, S3)."""
        return cls(
            Path(settings.db_path),
            lock_timeout_seconds=settings.lock_timeout_seconds,
            read_wait_seconds=settings.read_wait_seconds,
            lake_data_path=settings.lake_data_path,
            s3_endpoint=settings.s3_endpoint,
        )

    @property
    def is_lake(self) -> bool:
        return is_lake(self.path)

    def _run_lock(self) -> AbstractContextManager[None]:
        # A lake admits many writers (shards); only a DuckDB file needs them to queue.
        if self.is_lake:
            return nullcontext()
        return run_lock(self.path, timeout_seconds=self.lock_timeout_seconds)

    @contextmanager
    def writer(self, *, wait_seconds: float | None = None) -> Iterator[Store]:
        """A write session; waits for readers up to `wait_seconds` (default: the lock timeout).

        Raises:
            DatabaseBusy: a reader (or a foreign writer) held the file for the whole wait.
            RunLocked: another run of ours held the run lock for the whole lock timeout.
        """
        from pipeline.store.store import (
            INGEST_LOCK_KEY,
            Store,  # store.py imports this module: import late
            advisory_lock,
        )

        wait = self.lock_timeout_seconds if wait_seconds is None else wait_seconds
        lake = lake_for(self.path, self.lake_data_path, self.s3_endpoint)
        with self._run_lock():
            con = connect(
                self.path,
                wait_seconds=wait,
                lake_data_path=self.lake_data_path,
                s3_endpoint=self.s3_endpoint,
            )
            try:
                # Shards ingesting one slot must take turns on a lake (no keys there).
                yield Store(
                    con,
                    ingest_lock=None
                    if lake is None
                    else (lambda: advisory_lock(lake.conninfo, INGEST_LOCK_KEY)),
                )
            finally:
                con.close()

    @contextmanager
    def reader(self, *, on_wait: WaitCallback | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only session that waits for a writer up to `read_wait_seconds`."""
        con = connect(
            self.path,
            read_only=True,
            wait_seconds=self.read_wait_seconds,
            on_wait=on_wait,
            lake_data_path=self.lake_data_path,
            s3_endpoint=self.s3_endpoint,
        )
        try:
            yield con
        finally:
            con.close()


@contextmanager
def open_store(
    path: Path | str,
    *,
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    lake_data_path: str | None = None,
    s3_endpoint: str | None = None,
) -> Iterator[Store]:
    """One write session on `path` (see `Database.writer`)."""
    db = Database(
        Path(path),
        lock_timeout_seconds=lock_timeout_seconds,
        lake_data_path=lake_data_path,
        s3_endpoint=s3_endpoint,
    )
    with db.writer() as store:
        yield store
