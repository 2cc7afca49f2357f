"""`pipeline raw export|import` and `pipeline replay`: audit archives and rebuilding history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.cli.common import db_argument, parse_instant
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.archive import ImportReport
    from pipeline.rounds.replay import ReplaySummary
    from pipeline.store.history import Selection

# Exports smaller than this finish in a blink: no progress bar.
PROGRESS_MIN_ANSWERS = 10_000


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    raw = commands.add_parser("raw", help="export or import archives of the raw answers")
    raw_commands = raw.add_subparsers(dest="raw_command", required=True)

    export = raw_commands.add_parser(
        "export", help="write raw_responses to an NDJSON archive (gzip when FILE ends with .gz)"
    )
    _selection_arguments(export)
    export.add_argument("--out", required=True, type=Path, metavar="FILE", help="archive path")
    db_argument(export)
    export.set_defaults(handler=_export)

    load = raw_commands.add_parser(
        "import", help="append archives to raw_responses (idempotent; bad lines are skipped)"
    )
    load.add_argument("files", nargs="+", type=Path, metavar="FILE")
    db_argument(load)
    load.set_defaults(handler=_import)

    replay = commands.add_parser(
        "replay",
        help="rebuild balance_snapshots and balance_lines from raw_responses (only what differs)",
    )
    _selection_arguments(replay)
    db_argument(replay)
    replay.set_defaults(handler=_replay)


def _selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="slot_from", type=parse_instant, metavar="T",
        help="first slot, ISO-8601 (UTC when no offset); default: the earliest",
    )  # fmt: skip
    parser.add_argument(
        "--to", dest="slot_to", type=parse_instant, metavar="T",
        help="end of the range, exclusive, ISO-8601; default: after the latest",
    )  # fmt: skip
    parser.add_argument("--client", type=int, metavar="N", help="one client number only")


def _selection(args: argparse.Namespace) -> Selection:
    from pipeline.store.history import Selection  # late: keeps `pipeline --help` quick

    return Selection(args.slot_from, args.slot_to, args.client)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from pipeline.archive import export_archive
    from pipeline.store import Database, require_database

    db = require_database(settings.db_path)
    bar: list[tqdm] = []

    def on_start(total: int) -> None:
        disable = True if total < PROGRESS_MIN_ANSWERS else None  # None: only on a terminal
        bar.append(tqdm(total=total, unit="answer", file=sys.stderr, disable=disable))

    try:
        with Database.from_settings(settings).writer() as store:
            summary = export_archive(
                store,
                args.out,
                _selection(args),
                on_start=on_start,
                on_batch=lambda n: bar[0].update(n),
            )
    finally:
        for b in bar:
            b.close()
    rate = summary.answers / summary.seconds if summary.seconds else 0.0
    print(
        f"exported {summary.answers} answers from {db} to {summary.path} "
        f"({summary.bytes_written:,} bytes, {summary.seconds:.2f} s, {rate:,.0f} answers/s)"
    )
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.archive import import_archive
    from pipeline.store import Database

    db = settings.db_path
    reports = []
    with Database.from_settings(settings).writer() as store:
        for path in args.files:
            report = import_archive(store, path)
            reports.append(report)
            _print_report(report)
    read = sum(r.read for r in reports)
    valid = sum(r.valid for r in reports)
    print(
        f"total: read {read}, imported {sum(r.imported for r in reports)}, "
        f"already present {sum(r.already_present for r in reports)}, "
        f"skipped {sum(r.skipped for r in reports)} into {db}"
    )
    # Non-zero only when nothing could be imported: bad lines among good ones are reported
    # above and skipped, and an archive already imported is a success (0 new, all present).
    if not valid and (read or any(r.file_error for r in reports)):
        print("pipeline raw import: nothing could be imported", file=sys.stderr)
        return 1
    return 0


def _print_report(report: ImportReport) -> None:
    if report.file_error:
        print(f"{report.path}: not imported: {report.file_error}", file=sys.stderr)
        return
    print(
        f"{report.path}: read {report.read}, imported {report.imported}, "
        f"already present {report.already_present}, skipped {report.skipped}"
    )
    for number, reason in report.problems:
        print(f"{report.path}:{number}: skipped: {reason}", file=sys.stderr)
    if report.skipped > len(report.problems):
        print(
            f"{report.path}: … and {report.skipped - len(report.problems)} more bad lines",
            file=sys.stderr,
        )
    for warning in report.warnings:
        print(f"{report.path}: warning: {warning}", file=sys.stderr)


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from pipeline.rounds.replay import replay
    from pipeline.store import Database, require_database

    db = require_database(settings.db_path)
    with (
        Database.from_settings(settings).writer() as store,
        tqdm(unit="batch", file=sys.stderr, disable=None) as bar,
    ):

        def on_batch(number: int, total: int, batch: Selection) -> None:
            bar.total = total
            bar.update(1)
            bar.set_postfix_str(f"{batch.slot_from:%Y-%m-%d %H:%M}", refresh=False)

        summary = replay(store, _selection(args), on_batch=on_batch)
    print(replay_text(summary, db))
    return 0


def replay_text(summary: ReplaySummary, db: Path) -> str:
    c = summary.changes
    rate = summary.raw_read / summary.seconds if summary.seconds else 0.0
    return "\n".join(
        [
            f"replayed {summary.raw_read} bodies in {summary.batches} batches into {db} "
            f"({summary.seconds:.2f} s, {rate:,.0f} bodies/s; {summary.rejected} hold no snapshot)",
            f"balance_snapshots: {summary.snapshots_unchanged} unchanged, "
            f"{c['balance_snapshots.updated']} updated, {c['balance_snapshots.inserted']} inserted,"
            f" {c['balance_snapshots.deleted']} deleted",
            f"balance_lines: {summary.lines_unchanged} unchanged, "
            f"{c['balance_lines.updated']} updated, {c['balance_lines.inserted']} inserted, "
            f"{c['balance_lines.deleted']} deleted",
        ]
    )
