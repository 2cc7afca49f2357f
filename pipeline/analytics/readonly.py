"""Read-only connections for analysts, with the current views whatever the file's age."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.store import connect
from pipeline.store.derived import prepare_readonly
from pipeline.store.sqlfiles import load_sql, sql_names

_CREATE_VIEW = "create or replace view "


def open_readonly(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file read-only and define the views of `sql/views` as temporary views.

    A file written before a view was added (or changed) would otherwise lack it, and a reader
    may not write. Temporary views live in the connection only; they shadow the stored ones, so
    readers always see the views of this checkout.
    """
    con = connect(path, read_only=True)
    # The views read derived tables; an older file lacks them: computed here into temp tables.
    prepare_readonly(con)
    for name in sql_names("views"):
        sql = load_sql(name)
        if _CREATE_VIEW not in sql:
            raise ValueError(f"sql/{name}.sql must define its view with `{_CREATE_VIEW.strip()}`")
        con.execute(sql.replace(_CREATE_VIEW, "create or replace temp view ", 1))
    return con
