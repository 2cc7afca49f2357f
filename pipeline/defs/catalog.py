"""What the asset graph says about each table and view, read from the SQL that defines them.

Column names and types come from DuckDB itself (the DDL and the views applied to an in-memory
database, then DESCRIBE), so they cannot drift from the SQL; column descriptions from the DDL's
inline comments; a view's description from its header comment; its upstream relations from the
names its SQL mentions. Computed once per process, without touching the pipeline's database
(a code location must load without it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import dagster as dg
import duckdb

from pipeline.store.derived import SOURCES
from pipeline.store.migrations import prepare_schema
from pipeline.store.sqlfiles import load_sql, sql_names

# The contract's tables that are assets (schema_version and check_results are bookkeeping).
TABLES = ("raw_responses", "fetch_attempts", "clients", "balance_snapshots", "balance_lines")

_VIEW = re.compile(r"create\s+or\s+replace\s+view\s+(\w+)", re.IGNORECASE)
_TABLE = re.compile(r"create\s+table\s+if\s+not\s+exists\s+(\w+)\s*\((.*?)\n\);", re.S | re.I)
_COLUMN_COMMENT = re.compile(r"^\s+(\w+)\s+[^\n]*?--\s*(.+)$", re.M)
_COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class Relation:
    name: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), in order
    column_notes: dict[str, str]
    upstream: tuple[str, ...]  # tables and views its SQL reads (views only)
    sql_file: str | None = None  # sql/<file>.sql defining a view

    @property
    def column_schema(self) -> dg.TableSchema:
        return dg.TableSchema(
            columns=[
                dg.TableColumn(name, kind, description=self.column_notes.get(name))
                for name, kind in self.columns
            ]
        )


@dataclass(frozen=True)
class Catalog:
    tables: dict[str, Relation]
    views: dict[str, Relation]  # in definition order (sql/views file order)


@cache
def catalog() -> Catalog:
    con = duckdb.connect(":memory:")
    try:
        prepare_schema(con, "an in-memory database")
        view_files: dict[str, str] = {}
        for file in sql_names("views"):
            con.execute(load_sql(file))
            for name in _VIEW.findall(load_sql(file)):
                view_files[name] = file
        tables = {name: _table(con, name) for name in TABLES}
        known = set(TABLES) | set(view_files)
        views = {name: _view(con, name, file, known) for name, file in view_files.items()}
    finally:
        con.close()
    return Catalog(tables, views)


def _describe(con: duckdb.DuckDBPyConnection, name: str) -> tuple[tuple[str, str], ...]:
    # `name` comes from our own SQL files (a word matched by a regex), never from input.
    return tuple((row[0], row[1]) for row in con.execute(f'describe "{name}"').fetchall())


def _table(con: duckdb.DuckDBPyConnection, name: str) -> Relation:
    notes: dict[str, str] = {}
    for file in sql_names("ddl"):
        for table, body in _TABLE.findall(load_sql(file)):
            if table == name:
                notes = {col: text.strip() for col, text in _COLUMN_COMMENT.findall(body)}
    return Relation(name, "", _describe(con, name), notes, ())


def _view(con: duckdb.DuckDBPyConnection, name: str, file: str, known: set[str]) -> Relation:
    sql = load_sql(file)
    header = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        header.append(line[2:].strip())
    text = " ".join(header)
    text = re.sub(rf"^{re.escape(name)}:\s*", "", text)
    description = text[:1].upper() + text[1:]
    body = _COMMENT.sub("", sql)
    read = {other for other in known - {name} if re.search(rf"\b{other}\b", body)}
    for derived, sources in SOURCES.items():
        if re.search(rf"\b{derived}\b", body):
            read.update(sources)
    upstream = tuple(sorted(read))
    return Relation(name, description, _describe(con, name), {}, upstream, file)
