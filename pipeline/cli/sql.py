"""`pipeline sql "select …"`: ad-hoc SQL on a read-only connection, with every view defined."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.analytics import FORMATS, _say_waiting, _write
from pipeline.cli.common import db_argument, first_line
from pipeline.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sql = commands.add_parser(
        "sql",
        help="run ad-hoc SQL on a read-only connection (every view of sql/views is defined)",
        description=(
            "Run one SQL statement read-only against the database and print the result. "
            "Writes are refused by DuckDB. Example: "
            'pipeline sql "select currency, sum(value_base) from latest_balances group by all"'
        ),
    )
    sql.add_argument("statement", help="the SQL to run (quote it)")
    sql.add_argument("--format", choices=FORMATS, default="table", help="output format")
    sql.add_argument("--out", type=Path, help="write to this file instead of stdout")
    db_argument(sql)
    sql.set_defaults(handler=_sql)


def _sql(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from pipeline.analytics.readonly import open_readonly
    from pipeline.store.store import arrow_frame

    if args.format == "parquet" and args.out is None:
        print("pipeline sql: --format parquet needs --out FILE", file=sys.stderr)
        return 2
    con = open_readonly(
        settings.db_path, wait_seconds=settings.read_wait_seconds, on_wait=_say_waiting
    )
    try:
        result = con.sql(args.statement)
        if result is None:
            print("pipeline sql: the statement returned no rows to show", file=sys.stderr)
            return 0
        frame = arrow_frame(result.to_arrow_table())
    except duckdb.Error as exc:
        print(f"pipeline sql: {first_line(exc)}", file=sys.stderr)
        return 2
    finally:
        con.close()
    _write(frame, args.format, args.out)
    return 0
