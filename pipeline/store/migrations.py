"""Schema versions: create a database at the current schema, upgrade an older one, refuse a newer.

`sql/ddl/` is the current schema, readable in one place; `sql/migrations/NNN_name.sql` are the
steps from each earlier version to the next. A new database gets the DDL and is stamped with
every migration; an existing one gets the migrations it lacks, in order, each in its own
transaction with its `schema_version` row, so a crash leaves it at a version, never between
two. Every migration is idempotent (`if not exists`), so re-applying one is harmless. A file
without `schema_version` but with the contract's tables was made before versioning: version 0.
A test builds a database both ways and requires the same schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import duckdb

from pipeline.store.sqlfiles import load_sql, sql_names

_MIGRATION_NAME = re.compile(r"^migrations/(\d{3})_([a-z0-9_]+)$")
SCHEMA_VERSION_DDL = "ddl/000_schema_version"


class SchemaTooNew(RuntimeError):
    """The database was written by a newer release; reading or writing it could misbehave."""


# A migration whose change cannot be written idempotently in SQL (a table replaced by a view
# of the same name) declares when it applies: `-- guard: <query answering one boolean>`.
_GUARD = re.compile(r"^-- guard: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def guard(self) -> str | None:
        match = _GUARD.search(self.sql)
        return match.group(1) if match else None


def run_migration(con: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    """Execute a migration's SQL, unless its guard says the database needs none of it."""
    if migration.guard is not None:
        row = con.execute(migration.guard).fetchone()
        if not (row and row[0]):
            return
    con.execute(migration.sql)


# A migration that creates what a DDL file defines names the file instead of copying it.
_INCLUDE = re.compile(r"^-- include: (\S+)$", re.MULTILINE)


def _expand(sql: str) -> str:
    return _INCLUDE.sub(lambda match: load_sql(match.group(1)), sql)


@cache
def migrations() -> tuple[Migration, ...]:
    """`sql/migrations/NNN_name.sql`, in order; the numbers run 1, 2, 3… without a gap."""
    found = []
    for file in sql_names("migrations"):
        match = _MIGRATION_NAME.match(file)
        if match is None:
            raise ValueError(f"sql/{file}.sql: migrations are named NNN_lowercase_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), _expand(load_sql(file))))
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ValueError(f"sql/migrations must be numbered 001, 002, … without gaps: {numbers}")
    return tuple(found)


def latest_version() -> int:
    """The schema version this release writes."""
    return len(migrations())


def current_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The database's version; 0 before versioning; None for a file without the contract."""
    try:
        # fetchall, not fetchone: DuckDB keeps a half-read result open on the connection.
        (found,) = con.execute("select max(version) from schema_version").fetchall()[0]
    except duckdb.CatalogException:
        return 0 if _has_contract(con) else None
    return int(found) if found is not None else 0


def require_known(con: duckdb.DuckDBPyConnection, where: object) -> int | None:
    """The database's version, unless it is newer than this release knows.

    Raises:
        SchemaTooNew: one line saying which file, which versions, and what to do.
    """
    version = current_version(con)
    if version is not None and version > latest_version():
        raise SchemaTooNew(
            f"database {where} has schema version {version}, newer than this release knows "
            f"({latest_version()}); upgrade hyper-balance-history before opening it"
        )
    return version


def prepare_schema(
    con: duckdb.DuckDBPyConnection,
    where: object,
    *,
    steps: Sequence[Migration] | None = None,
) -> list[int]:
    """Bring a writable database to the current schema; return the versions applied.

    Args:
        con: a writable connection.
        where: the file, for messages.
        steps: the migrations (default: `sql/migrations`); tests pass their own.

    Raises:
        SchemaTooNew: the database is newer than this release.
    """
    steps = migrations() if steps is None else tuple(steps)
    version = require_known(con, where)
    if version is None:
        _create(con, steps)
        return [m.version for m in steps]
    applied = []
    for migration in steps:
        if migration.version > version:
            _apply(con, migration)
            applied.append(migration.version)
    return applied


def _has_contract(con: duckdb.DuckDBPyConnection) -> bool:
    (count,) = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'main' and table_name = $t",
        {"t": "raw_responses"},
    ).fetchall()[0]
    return bool(count)


def _create(con: duckdb.DuckDBPyConnection, steps: Sequence[Migration]) -> None:
    """A new database: the current DDL, stamped with every migration it already contains."""
    with transaction(con):
        for name in sql_names("ddl"):
            con.execute(load_sql(name))
        for migration in steps:
            _stamp(con, migration)


def _apply(con: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    with transaction(con):
        con.execute(load_sql(SCHEMA_VERSION_DDL))
        run_migration(con, migration)
        _stamp(con, migration)


def _stamp(con: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    con.execute(
        "insert into schema_version values ($v, $name, $at) on conflict do nothing",
        {"v": migration.version, "name": migration.name, "at": datetime.now(UTC)},
    )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """begin … commit, or rollback on any exception (a migration applies whole or not at all)."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
