"""The data contract on DuckLake: catalog in PostgreSQL, Parquet files in a folder or s3://.

Many processes may write one lake at once (DuckLake retries colliding snapshot ids itself), and
readers attach it read-only without blocking anyone. DuckLake has no PRIMARY KEY/UNIQUE, so the
same DDL files are applied without their key constraints (a key column stays NOT NULL); the
store's inserts skip stored keys with anti-joins and the uniqueness checks guard the keys.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import psycopg2

from pipeline.settings import LAKE_URL_PREFIX, ConfigurationError, lake_conninfo
from pipeline.store.derived import ensure_derived
from pipeline.store.extensions import (
    LAKE_EXTENSIONS,
    OBJECT_STORE_EXTENSIONS,
    load_extensions,
    offline_config,
)

# The catalog name a lake is attached under (the process's first; `lake_2`… for more): each
# connection's default catalog, so the contract's bare table names resolve there and every SQL
# file runs unchanged.
LAKE_ALIAS = "lake"
# Which DDL a lake has: a hash of the DDL and view texts, so writers re-apply them only when the
# code changed (each applied statement would otherwise add catalog snapshots on every connect).
# A schema of its own keeps `main` exactly the contract's tables and views.
META_SCHEMA = "pipeline_meta"
# Writers set a lake up (create its catalog tables, apply the DDL) one at a time, under this
# PostgreSQL advisory lock (scoped to the catalog database): DuckLake's own catalog creation is
# not safe against a concurrent one (measured: "duplicate key ... pg_type_typname_nsp_index" for
# three of four writers starting together on a new lake).
_SETUP_LOCK_KEY = 0x6879706572_6C6B  # "hyper" "lk"


class LakeUnavailable(ConfigurationError):
    """The lake cannot be attached: PostgreSQL down, no catalog database, no data path."""


_COMMENT = re.compile(r"--[^\n]*")
_TABLE_KEY = re.compile(r",\s*(?:primary\s+key|unique)\s*\([^)]*\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"(?:\s+not\s+null)?\s+(?:primary\s+key|unique)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Lake:
    """Where a lake lives: its catalog database (libpq conninfo) and its data files."""

    conninfo: str
    data_path: str | None = None
    # An S3-compatible endpoint (http(s)://host[:port]) for s3:// data; None: AWS, or the one
    # a writer recorded in the catalog database.
    s3_endpoint: str | None = None

    @property
    def url(self) -> str:
        return LAKE_URL_PREFIX + self.conninfo


def lake_for(
    target: Path | str, data_path: str | None = None, s3_endpoint: str | None = None
) -> Lake | None:
    """The lake a `PIPELINE_DB` value names, or None when it is a DuckDB file path.

    Raises:
        ConfigurationError: a malformed DuckLake URL (see settings.lake_conninfo).
    """
    conninfo = lake_conninfo(str(target))
    if conninfo is None:
        return None
    if data_path is not None and "://" not in data_path:
        # DuckLake records the path as given: a relative one would depend on the writer's cwd.
        data_path = str(Path(data_path).resolve())
    return Lake(conninfo, data_path, s3_endpoint)


def is_lake(target: Path | str) -> bool:
    return str(target).startswith("ducklake:")


def lake_ddl(sql: str) -> str:
    """`sql` without key constraints, which DuckLake rejects; key columns stay NOT NULL."""
    sql = _COMMENT.sub("", sql)
    sql = _TABLE_KEY.sub("", sql)
    return _COLUMN_KEY.sub(" not null", sql)


# One DuckDB instance per process, with the extensions loaded once: loading them into a fresh
# instance costs ≈ 0.6 s (DuckDB verifies their signatures over ≈ 80 MB). Each lake is attached
# once per mode (≈ 0.2 s) under its own alias, `lake` for the first; connections are cursors on
# the instance (free), each with its lake as default catalog. A cursor sees every commit: each
# DuckLake transaction reads the catalog's newest snapshot. A forked child makes its own.
@dataclass
class _Process:
    pid: int
    instance: duckdb.DuckDBPyConnection
    aliases: dict[tuple[str, bool], str]


_process: _Process | None = None
_process_lock = threading.Lock()


def open_lake(
    lake: Lake,
    *,
    read_only: bool,
    prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the lake; `prepare` runs once per attach.

    Raises:
        LakeUnavailable: PostgreSQL is unreachable, the catalog database is missing, or a new
            lake has no data path; the message says which.
    """
    # The data path is not part of the key: it only matters to create a lake, and a lake's
    # catalog refuses a different one anyway.
    key = (lake.url, read_only)
    with _process_lock:
        process = _this_process()
        alias = process.aliases.get(key)
        if alias is None:
            taken = set(process.aliases.values())
            alias = next(name for n in range(1, len(taken) + 2) if (name := _alias(n)) not in taken)
            # Writers set a lake up one at a time; readers never create anything.
            with nullcontext() if read_only else _setup_lock(lake):
                attach(process.instance, lake, alias=alias, read_only=read_only)
                try:
                    if prepare is not None:
                        prepare(_cursor(process, alias))
                except BaseException:
                    process.instance.execute(f"detach {alias}")
                    raise
            process.aliases[key] = alias
    return _cursor(process, alias)


def close_lakes() -> None:
    """Detach this process's lakes, closing their catalog connections (tests, between lakes)."""
    with _process_lock:
        process = _process
        if process is None or process.pid != os.getpid():
            return  # nothing attached in this process
        for alias in process.aliases.values():
            process.instance.execute(f"detach {alias}")
        process.aliases.clear()


def _this_process() -> _Process:
    global _process
    if _process is None or _process.pid != os.getpid():
        instance = duckdb.connect(config=offline_config())
        load_extensions(instance, LAKE_EXTENSIONS)
        _process = _Process(os.getpid(), instance, {})
    return _process


def _alias(n: int) -> str:
    return LAKE_ALIAS if n == 1 else f"{LAKE_ALIAS}_{n}"


def _cursor(process: _Process, alias: str) -> duckdb.DuckDBPyConnection:
    con = process.instance.cursor()
    con.execute(f"use {alias}")
    return con


@contextmanager
def _setup_lock(lake: Lake) -> Iterator[None]:
    """Hold the lake's setup lock; the session's end releases it, a crash included."""
    try:
        session = psycopg2.connect(lake.conninfo)
    except psycopg2.Error as error:
        raise LakeUnavailable(_attach_failure(lake, error)) from None
    try:
        session.autocommit = True
        with session.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s)", (_SETUP_LOCK_KEY,))
        yield
    finally:
        session.close()


def attach(
    con: duckdb.DuckDBPyConnection, lake: Lake, *, alias: str = LAKE_ALIAS, read_only: bool
) -> None:
    """Attach the lake to `con` as `alias` (the ducklake and postgres extensions are loaded).

    A writer creating a new lake must name its data path; readers take it from the catalog.
    Data on object storage (s3://…) needs httpfs too, loaded once the catalog says so.
    """
    options = ["read_only"] if read_only else []
    if lake.data_path is not None and not read_only:
        options.append(f"data_path {_literal(lake.data_path)}")
        if "://" in lake.data_path:
            # A new lake on object storage: reach it before the catalog records its path, and
            # leave its endpoint where readers (which only know the URL) find it.
            object_store(con, lake.s3_endpoint)
            if lake.s3_endpoint is not None:
                record_endpoint(lake)
    clause = f" ({', '.join(options)})" if options else ""
    try:
        # ATTACH takes no bound parameters: the URL and path go in as escaped literals.
        con.execute(f"attach {_literal(lake.url)} as {alias}{clause}")
    except duckdb.Error as error:
        raise LakeUnavailable(_attach_failure(lake, error)) from None
    row = con.execute(
        f"select value from {alias}.options() where option_name = 'data_path'"
    ).fetchone()
    if row and "://" in str(row[0]):
        object_store(con, lake.s3_endpoint or recorded_endpoint(lake))


# The catalog database keeps the S3 endpoint a writer was configured with (not a secret), so
# analysts' read-only attaches reach the same store without being told.
_ENDPOINT_TABLE = "pipeline_object_store"


def object_store(con: duckdb.DuckDBPyConnection, endpoint: str | None) -> None:
    """Load httpfs and aws and give the instance an S3 secret from the AWS credential chain
    (environment, ~/.aws, instance role): no key passes through this code or its settings."""
    load_extensions(con, OBJECT_STORE_EXTENSIONS)
    options = ["type s3", "provider credential_chain"]
    if endpoint is not None:
        parts = urlsplit(endpoint)
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        options += [
            f"endpoint {_literal(host or '')}",
            "url_style 'path'",  # what S3-compatible stores serve; AWS takes it too
            f"use_ssl {'true' if parts.scheme == 'https' else 'false'}",
        ]
    con.execute(f"create or replace temporary secret pipeline_lake_s3 ({', '.join(options)})")


def record_endpoint(lake: Lake) -> None:
    with psycopg2.connect(lake.conninfo) as session, session.cursor() as cur:
        cur.execute(f"create table if not exists {_ENDPOINT_TABLE} (endpoint text not null)")
        cur.execute(f"delete from {_ENDPOINT_TABLE}")
        cur.execute(f"insert into {_ENDPOINT_TABLE} values (%s)", (lake.s3_endpoint,))
    session.close()


def recorded_endpoint(lake: Lake) -> str | None:
    with psycopg2.connect(lake.conninfo) as session, session.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (_ENDPOINT_TABLE,))
        row = cur.fetchone()
        found = None
        if row and row[0]:
            cur.execute(f"select endpoint from {_ENDPOINT_TABLE} limit 1")
            stored = cur.fetchone()
            found = stored[0] if stored else None
    session.close()
    return found


def apply_lake_ddl(con: duckdb.DuckDBPyConnection, statements: list[str]) -> bool:
    """Apply `statements` (lake DDL, see lake_ddl, then views) unless the lake has them.

    All in one transaction with the marker, so a lake never has half a schema; callers hold the
    setup lock, so writers starting together apply it once. Returns whether this call did.
    """
    digest = hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()
    catalog = current_catalog(con)
    if _has_marker(con, catalog, digest):
        return False
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {catalog}.{META_SCHEMA}")
        con.execute(
            f"create table if not exists {catalog}.{META_SCHEMA}.ddl_applied "
            "(ddl_hash varchar not null, applied_at timestamptz not null)"
        )
        for statement in statements:
            con.execute(statement)
        con.execute(
            f"insert into {catalog}.{META_SCHEMA}.ddl_applied values ($digest, $now)",
            {"digest": digest, "now": datetime.now(UTC)},
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return True


def copy_from_file(con: duckdb.DuckDBPyConnection, path: Path, tables: list[str]) -> None:
    """Append `tables` of a DuckDB file into the lake `con` is attached to, in one transaction.

    Moves an existing history onto a lake; columns are matched by name. Derived facts the
    tables did not include are computed from the copied history.
    """
    catalog = current_catalog(con)
    con.execute(f"attach {_literal(str(path))} as source_file (read_only)")
    try:
        con.execute("begin transaction")
        for table in tables:
            # Identifiers cannot be bound; only names found in the file's catalog get here.
            found = con.execute(
                "select count(*) from duckdb_tables() "
                "where database_name = 'source_file' and table_name = $t",
                {"t": table},
            ).fetchone()
            if not found or not found[0]:
                raise ValueError(f"{path} has no table {table!r}")
            con.execute(
                f'insert into {catalog}.main."{table}" by name '
                f'select * from source_file.main."{table}"'
            )
        # The views read derived facts: when the copy brought history without them, compute
        # them here, so the lake answers like the file did.
        ensure_derived(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("detach source_file")


def current_catalog(con: duckdb.DuckDBPyConnection) -> str:
    """The alias the connection's lake is attached under (`lake`, or `lake_2`… beside others)."""
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])


def _has_marker(con: duckdb.DuckDBPyConnection, catalog: str, digest: str) -> bool:
    exists = con.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = $db and schema_name = $schema and table_name = 'ddl_applied'",
        {"db": catalog, "schema": META_SCHEMA},
    ).fetchone()
    if not exists or not exists[0]:
        return False
    row = con.execute(
        f"select count(*) from {catalog}.{META_SCHEMA}.ddl_applied where ddl_hash = $digest",
        {"digest": digest},
    ).fetchone()
    return bool(row and row[0])


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _attach_failure(lake: Lake, error: Exception) -> str:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    hint = ""
    if "data_path is not set" in message or "DATA_PATH" in message:
        hint = "; set PIPELINE_LAKE_DATA_PATH to the folder (or s3://…) that holds its files"
    elif "Unable to connect" in message or "connect" in message.lower():
        hint = "; check that PostgreSQL is up and the catalog database exists (createdb)"
    return f"cannot attach the lake {lake.url}: {message}{hint}"
