"""`pipeline …` commands: thin wrappers over the modules that do the work."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dotenv import load_dotenv

from pipeline.progress import PROGRESS_LOGGER
from pipeline.settings import ConfigurationError, Settings
from pipeline.store.lock import RunLocked

# Command groups that live in their own modules; each exposes `register(commands)`, which adds
# subparsers whose `handler(args) -> int` does the work.
COMMAND_MODULES: tuple[str, ...] = ("pipeline.cli_raw", "pipeline.cli_analytics")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline", description="Turn Hyper live client balances into exact history."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="poll the current slot once (HYPER_BASE_URL, or the embedded simulator when unset)",
    )
    run.set_defaults(handler=lambda args: _run(Settings.from_env()))
    demo = commands.add_parser(
        "demo", help="backfill N days of hourly history from the embedded simulator"
    )
    demo.add_argument("--days", type=float, default=7.0, help="days of history (default 7)")
    demo.add_argument(
        "--until",
        type=_parse_instant,
        default=None,
        help="end of the backfilled range, ISO-8601 UTC (default: the start of the current slot)",
    )
    demo.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="skip rendering the HTML report (report.html beside the database)",
    )
    demo.set_defaults(
        handler=lambda args: _demo(
            Settings.from_env(), days=args.days, until=args.until, report=args.report
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
    load_dotenv(Path.cwd() / ".env", override=False)
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigurationError as exc:
        print(f"pipeline {args.command}: configuration error: {exc}", file=sys.stderr)
        return 2
    except RunLocked as exc:  # another run holds the database (pipeline.store.lock)
        print(f"pipeline {args.command}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _simulate(args: argparse.Namespace) -> int:
    from pipeline.simulator import main as simulate_main

    return simulate_main([a for a in args.args if a != "--"])


def _parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _preflight(settings: Settings) -> None:
    """Fail fast, with one line, on what would otherwise fail deep inside the run."""
    from pipeline.hyper import HyperClient
    from pipeline.source import load_clients

    load_clients(settings)
    if settings.base_url is not None:
        with HyperClient(settings.base_url, timeout_seconds=settings.timeout_seconds) as client:
            if not client.is_reachable():
                raise ConfigurationError(
                    f"cannot reach HYPER_BASE_URL={settings.base_url}; check the URL and network"
                )


def _run(settings: Settings) -> int:
    from pipeline.launch import current_slot_key, dagster_instance, failure_message, run_poll_job
    from pipeline.report_text import round_summary

    _preflight(settings)
    key = current_slot_key(settings)
    where = settings.base_url or "the embedded simulator"
    print(f"polling slot {key} against {where} into {settings.db_path}", file=sys.stderr)
    with dagster_instance() as instance:
        result = run_poll_job(settings, [key], instance=instance)
    if not result.success:
        print(f"pipeline run: failed: {failure_message(result)}", file=sys.stderr)
        return 1
    print(round_summary(settings.db_path, result.run_id))
    return 0


def _demo(settings: Settings, *, days: float, until: datetime | None, report: bool = True) -> int:
    from pipeline.defs.partitions import poll_partitions
    from pipeline.launch import (
        current_slot_key,
        dagster_instance,
        failure_message,
        run_poll_job,
        slot_keys_between,
    )
    from pipeline.report_text import demo_summary

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
    with _progress_bar(), dagster_instance() as instance:
        result = run_poll_job(settings, keys, instance=instance)
    if not result.success:
        print(f"pipeline demo: failed: {failure_message(result)}", file=sys.stderr)
        return 1
    seconds = (datetime.now(UTC) - started).total_seconds()
    print(demo_summary(settings.db_path, seconds=seconds))
    if report:
        from pipeline.analytics.report import build_report

        print("rendering the report (executing the notebooks)...", file=sys.stderr)
        page = build_report(settings.db_path, settings.db_path.parent / "report")
        print(f"  report:      {page.resolve()}")
    return 0


class _TqdmHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.bar = None

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        total = getattr(record, "total", None)
        done = getattr(record, "done", None)
        if total is None or done is None:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, unit="slot", file=sys.stderr, dynamic_ncols=True)
        self.bar.n = done
        self.bar.set_postfix_str(getattr(record, "detail", ""), refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        super().close()


class _progress_bar:
    """Show the progress logger as a tqdm bar on stderr while the block runs."""

    def __enter__(self) -> None:
        self.handler = _TqdmHandler()
        self.logger = logging.getLogger(PROGRESS_LOGGER)
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.handler.close()


if __name__ == "__main__":
    sys.exit(main())
