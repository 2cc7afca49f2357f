"""`pipeline maintain`: compact closed periods by client and tidy a lake's files."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pipeline.cli.common import db_argument
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.store.maintenance import Period


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    maintain = commands.add_parser(
        "maintain",
        help="rewrite closed periods clustered by client (fast one-client reads); on a lake, "
        "also merge small files and expire old snapshots",
        description=(
            "Compact every closed week (then every closed day of this week) not compacted yet, "
            "each in its own short transaction; on a DuckLake store, then merge adjacent files, "
            "expire snapshots older than --keep-days and delete the files they freed. No view "
            "result changes. The daily maintenance schedule runs the same in Dagster."
        ),
    )
    maintain.add_argument(
        "--keep-days",
        type=int,
        default=None,
        metavar="N",
        help="a lake's time travel and freed-file grace, in days (default 7)",
    )
    db_argument(maintain)
    maintain.set_defaults(handler=_maintain)


def _maintain(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.rounds.maintain import LAKE_KEEP_DAYS, maintain
    from pipeline.store import Database, require_database

    if args.keep_days is not None and args.keep_days < 0:
        print("pipeline maintain: --keep-days must be 0 or more", file=sys.stderr)
        return 2
    require_database(settings.db_path)
    db = Database.from_settings(settings)

    def on_period(period: Period) -> None:
        start, end = period
        print(f"compacted {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M}", file=sys.stderr)

    keep = LAKE_KEEP_DAYS if args.keep_days is None else args.keep_days
    summary = maintain(db, lake_keep_days=keep, on_period=on_period)
    tidied = (
        f"; lake files merged, snapshots over {keep} days expired" if summary.lake_tidied else ""
    )
    print(
        f"maintained {db.path if not db.is_lake else 'the lake'}: "
        f"{len(summary.compacted)} periods compacted{tidied} ({summary.seconds:.2f} s)"
    )
    return 0
