"""`pipeline query` and `pipeline report`: analysts' read-only entry points to the DuckDB file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

from pipeline.cli.common import db_argument, first_line, parse_instant
from pipeline.settings import Settings, client_from_env

FORMATS = ("table", "csv", "json", "parquet")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    query = commands.add_parser(
        "query",
        help="run an analyst query from sql/queries on a read-only connection",
        description="Run a named query (sql/queries/NAME.sql); `--list` shows them all.",
    )
    query.add_argument("name", nargs="?", help="the query's name (see --list)")
    query.add_argument("--list", action="store_true", help="list the queries and their parameters")
    query.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter value (repeatable); timestamps are ISO-8601, UTC unless an offset",
    )
    query.add_argument("--format", choices=FORMATS, default="table", help="output format")
    query.add_argument("--out", type=Path, help="write to this file instead of stdout")
    db_argument(query)
    query.set_defaults(handler=_query)

    report = commands.add_parser(
        "report",
        help="render the self-contained HTML report (report.html) from the database",
        description="Render one self-contained HTML page: house holdings and value, implied FX "
        "rates, the selected clients, value attribution, reconciliation exceptions, coverage "
        "and fetch health, over the slots from --from to --to.",
    )
    report.add_argument(
        "--out", type=Path, help="folder for report.html (default: `report/` beside the database)"
    )
    report.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="N",
        help="a client to show (repeatable; default PIPELINE_CLIENT, else the client with the "
        "most status and balance changes)",
    )
    report.add_argument(
        "--from",
        dest="start",
        type=parse_instant,
        metavar="T",
        help="first slot of the period (ISO-8601, UTC unless an offset; default: the oldest)",
    )
    report.add_argument(
        "--to",
        dest="end",
        type=parse_instant,
        metavar="T",
        help="last slot of the period, inclusive (default: the newest)",
    )
    db_argument(report)
    report.set_defaults(handler=_report)


def _parse_params(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {pair!r} must look like key=value")
        values[key.strip()] = value
    return values


def _query(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from pipeline.analytics.queries import QueryError, bind, list_queries, load_query, run_bound
    from pipeline.analytics.readonly import open_readonly

    if args.list or not args.name:
        for query in list_queries():
            print(f"{query.name}\n    {query.description}")
            for p in query.params:
                default = "required" if p.required else f"default {p.default}"
                print(f"    --param {p.name}=<{p.type}>  {p.description} ({default})")
        return 0
    if args.format == "parquet" and args.out is None:
        print("pipeline query: --format parquet needs --out FILE", file=sys.stderr)
        return 2
    try:
        params = bind(load_query(args.name), _parse_params(args.param))
    except (ValueError, QueryError) as exc:
        print(f"pipeline query: {exc}", file=sys.stderr)
        return 2
    # Open only now, and only for the query: a writer waits for readers, and the other way
    # round (up to PIPELINE_READ_WAIT_SECONDS, past which main() prints one line, exit 2).
    con = open_readonly(
        settings.db_path, wait_seconds=settings.read_wait_seconds, on_wait=_say_waiting
    )
    try:
        frame = run_bound(con, args.name, params)
    except duckdb.Error as exc:
        print(f"pipeline query: {args.name} failed: {first_line(exc)}", file=sys.stderr)
        return 2
    finally:
        con.close()
    _write(frame, args.format, args.out)
    return 0


def _say_waiting(path: Path) -> None:
    print(f"waiting for the writer to release {path}…", file=sys.stderr)


def _write(frame: pl.DataFrame, fmt: str, out: Path | None) -> None:
    import polars as pl

    if fmt == "parquet":
        assert out is not None  # the caller refuses --format parquet without --out
        frame.write_parquet(out)
    elif fmt == "csv":
        text = frame.write_csv()
    elif fmt == "json":
        text = frame.write_json() + "\n"
    else:
        with pl.Config(
            tbl_rows=-1,
            tbl_cols=-1,
            tbl_width_chars=250,
            fmt_str_lengths=60,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
        ):
            text = f"{frame}\n"
    if fmt != "parquet":
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
    if out is not None:
        print(f"{frame.height} rows written to {out}", file=sys.stderr)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.analytics.report import build_report
    from pipeline.analytics.report_data import ReportError, ReportScope, parse_client
    from pipeline.store.lake import is_lake

    db_path = settings.db_path
    if not is_lake(db_path) and not db_path.exists():  # a lake's URL is no path to look at
        print(
            f"pipeline report: {db_path} does not exist; run `pipeline demo` first", file=sys.stderr
        )
        return 2
    try:
        if args.client:
            clients = tuple(parse_client(text, "--client") for text in args.client)
        else:
            chosen = client_from_env()
            clients = (parse_client(chosen, "PIPELINE_CLIENT"),) if chosen else ()
        scope = ReportScope(start=args.start, end=args.end, clients=clients)
        page = build_report(
            db_path,
            args.out or settings.local_folder / "report",
            scope=scope,
            wait_seconds=settings.read_wait_seconds,
            on_wait=_say_waiting,
        )
    except ReportError as exc:
        print(f"pipeline report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {page.resolve()}")
    return 0
