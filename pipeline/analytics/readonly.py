"""Read-only access for analysts, with the current views whatever the file's age.

DuckDB lets a reader in only while no writer holds the file, and keeps the writer out while a
reader holds it. So readers wait briefly for the writer's short transactions
(PIPELINE_READ_WAIT_SECONDS), and long-lived readers (a Jupyter kernel) should not hold a
connection between questions: `Reader` opens, answers and closes for each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline.settings import DEFAULT_READ_WAIT_SECONDS
from pipeline.store import connect
from pipeline.store.database import WaitCallback
from pipeline.store.derived import prepare_readonly
from pipeline.store.sqlfiles import load_sql, sql_names
from pipeline.store.store import query_frame

_CREATE_VIEW = "create or replace view "


def open_readonly(
    path: Path | str,
    *,
    wait_seconds: float = DEFAULT_READ_WAIT_SECONDS,
    on_wait: WaitCallback | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file read-only and define the views of `sql/views` as temporary views.

    A file written before a view was added (or changed) would otherwise lack it, and a reader
    may not write. Temporary views live in the connection only; they shadow the stored ones, so
    readers always see the views of this version.

    Raises:
        DatabaseMissing: no DuckDB database at `path`.
        DatabaseBusy: a writer held the file for the whole wait.
    """
    con = connect(path, read_only=True, wait_seconds=wait_seconds, on_wait=on_wait)
    # The views read derived tables; an older file lacks them: computed here into temp tables.
    prepare_readonly(con)
    for name in sql_names("views"):
        sql = load_sql(name)
        if _CREATE_VIEW not in sql:
            raise ValueError(f"sql/{name}.sql must define its view with `{_CREATE_VIEW.strip()}`")
        con.execute(sql.replace(_CREATE_VIEW, "create or replace temp view ", 1))
    return con


@dataclass(frozen=True)
class Reader:
    """Questions to a database from a long-lived process, one short connection per question.

    A notebook kernel holding a connection would keep the pipeline's writer out for as long
    as it lives (its answers would wait in the spool); this holds the file only while a query
    runs.
    """

    path: Path
    wait_seconds: float = DEFAULT_READ_WAIT_SECONDS

    def frame(self, sql: str, **params: Any) -> pl.DataFrame:
        """Run `sql` (values bound as `$name`) and return the result as a polars frame."""
        con = open_readonly(self.path, wait_seconds=self.wait_seconds)
        try:
            return query_frame(con, sql, params)
        finally:
            con.close()
