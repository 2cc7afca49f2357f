"""`pipeline …` commands: the front end. Parses arguments, reads `Settings` once, calls down."""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pipeline.cli.common import db_argument, parse_instant
from pipeline.settings import ConfigurationError, Settings, load_dotenv_file
from pipeline.store.database import DatabaseBusy, DatabaseMissing, SchemaTooNew
from pipeline.store.lock import RunLocked

# Command groups that live in their own modules; each exposes `register(commands)`, which adds
# subparsers whose `handler(args, settings) -> int` does the work.
COMMAND_MODULES: tuple[str, ...] = (
    "pipeline.cli.raw",
    "pipeline.cli.analytics",
    "pipeline.cli.sql",
    "pipeline.cli.instance",
    "pipeline.cli.maintenance",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline", description="Turn Hyper live client balances into exact history."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="poll the current slot once (HYPER_BASE_URL, or the embedded simulator when unset)",
        description=(
            "Poll every client of the clients file for the current slot through Dagster and "
            "land the answers. Configured by the environment (HYPER_*, PIPELINE_*; see the "
            "README). Exit 0: done (some clients may have failed); 1: the round failed; "
            "2: a configuration error; 3: another run held the database too long."
        ),
    )
    db_argument(run)
    run.add_argument(
        "--shard",
        default=None,
        metavar="NAME|K/N",
        help="poll only the clients whose clients-file `shard` column is NAME, or part K of N "
        "of a stable hash of the client number (one process per egress; see the README)",
    )
    run.set_defaults(handler=lambda args, settings: _run(settings, shard=args.shard))
    demo = commands.add_parser(
        "demo",
        help="backfill N days of hourly history from the embedded simulator",
        description=(
            "Backfill hourly history from the embedded simulator's demo book through Dagster, "
            "print a summary and render the HTML report. Re-running adds no row."
        ),
    )
    demo.add_argument("--days", type=float, default=7.0, help="days of history (default 7)")
    demo.add_argument(
        "--until",
        type=parse_instant,
        default=None,
        help="end of the backfilled range, ISO-8601 UTC (default: the start of the current slot)",
    )
    demo.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="skip rendering the HTML report (report.html beside the database)",
    )
    db_argument(demo)
    demo.set_defaults(
        handler=lambda args, settings: _demo(
            settings, days=args.days, until=args.until, report=args.report
        )
    )
    simulate = commands.add_parser(
        "simulate", help="serve the Hyper API simulator (see `pipeline simulate -- -h`)"
    )
    simulate.add_argument("args", nargs=argparse.REMAINDER)
    simulate.set_defaults(handler=_simulate)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Like `dg dev`, read a local .env; variables already set in the environment win.
    load_dotenv_file()
    raw = sys.argv[1:] if argv is None else list(argv)
    if raw[:1] == ["simulate"] and raw[1:2] not in (["-h"], ["--help"]):
        # `pipeline simulate --port 8080` works with or without the `--`: the simulator
        # parses its own options.
        raw = ["simulate", "--", *[a for a in raw[1:] if a != "--"]]
    args = build_parser().parse_args(raw)
    try:
        settings = Settings.from_env()
        if getattr(args, "db", None) is not None:
            settings = replace(settings, db_path=args.db)
        return int(args.handler(args, settings))
    except ConfigurationError as exc:
        print(f"pipeline {args.command}: configuration error: {exc}", file=sys.stderr)
        return 2
    except RunLocked as exc:  # another run holds the database (pipeline.store.lock)
        print(f"pipeline {args.command}: {exc}", file=sys.stderr)
        return 3
    except (DatabaseMissing, DatabaseBusy, SchemaTooNew) as exc:
        print(f"pipeline {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.simulator import main as simulate_main

    return simulate_main([a for a in args.args if a != "--"], settings=settings)


def _run(settings: Settings, *, shard: str | None = None) -> int:
    from pipeline.cli.progress import progress_bar
    from pipeline.cli.summaries import round_summary
    from pipeline.defs.launch import (
        current_slot_key,
        dagster_instance,
        failure_message,
        run_poll_job,
    )
    from pipeline.rounds.shards import parse_shard, select_shard
    from pipeline.rounds.source import open_source

    chosen = parse_shard(shard) if shard is not None else None
    key = current_slot_key(settings)
    # Open the source here, once: the clients file is read and the instance's alive check
    # made once per run, and a bad setting fails with one line before Dagster starts.
    with open_source(settings) as source:
        if chosen is not None:
            source = replace(source, credentials=select_shard(source.credentials, chosen))
        print(
            f"polling slot {key} against {settings.display_url} into {settings.db_path}"
            + (f" (shard {chosen}: {len(source.credentials)} clients)" if chosen else ""),
            file=sys.stderr,
        )
        with progress_bar("client") as progress, dagster_instance(settings) as instance:
            result = run_poll_job(
                settings, [key], instance=instance, source=source, progress=progress
            )
    if not result.success:
        print(f"pipeline run: failed: {failure_message(result)}", file=sys.stderr)
        return 1
    print(round_summary(settings.db_path, result.run_id, wait_seconds=settings.read_wait_seconds))
    return 0


def _demo(settings: Settings, *, days: float, until: datetime | None, report: bool = True) -> int:
    from pipeline.cli.progress import progress_bar
    from pipeline.cli.summaries import demo_summary
    from pipeline.defs.launch import (
        current_slot_key,
        dagster_instance,
        failure_message,
        instance_home,
        run_poll_job,
        slot_keys_between,
    )
    from pipeline.defs.partitions import poll_partitions
    from pipeline.rounds.source import open_source

    # The demo always uses the embedded simulator and its demo book, whatever the environment.
    settings = replace(settings, base_url=None, clients_file=None)
    if days <= 0:
        raise ConfigurationError("--days must be positive")
    if until is None:
        partitions = poll_partitions(settings.poll_cron)
        until = partitions.time_window_for_partition_key(current_slot_key(settings)).start
    keys = slot_keys_between(settings, until - timedelta(days=days), until)
    if not keys:
        raise ConfigurationError("the requested range holds no poll slot")
    print(
        f"backfilling {len(keys)} slots ({keys[0]} .. {keys[-1]}) from the embedded simulator "
        f"into {settings.db_path}",
        file=sys.stderr,
    )
    started = datetime.now(UTC)
    with (
        open_source(settings) as source,
        progress_bar("slot") as progress,
        dagster_instance(settings) as instance,
    ):
        result = run_poll_job(settings, keys, instance=instance, source=source, progress=progress)
    if not result.success:
        print(f"pipeline demo: failed: {failure_message(result)}", file=sys.stderr)
        return 1
    seconds = (datetime.now(UTC) - started).total_seconds()
    print(demo_summary(settings.db_path, seconds=seconds, wait_seconds=settings.read_wait_seconds))
    print(f"  dagster:     DAGSTER_HOME={instance_home(settings).resolve()} uv run dg dev")
    if report:
        from pipeline.analytics.report import build_report

        print("rendering the report...", file=sys.stderr)
        page = build_report(settings.db_path, settings.local_folder / "report")
        print(f"  report:      {page.resolve()}")
    total = (datetime.now(UTC) - started).total_seconds()
    print(f"demo finished in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
