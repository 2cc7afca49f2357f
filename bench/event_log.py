"""What a persistent Dagster instance costs a backfill, and what the pooled event log saves.

Runs the same single-run backfill (N hourly slots of the demo book from the embedded simulator,
through the real poll job with its slot checks) three times, each into a fresh database: with
an ephemeral in-memory instance (the reference), with Dagster's stock SQLite instance in a
folder, and with the CLI's instance (`pipeline.defs.instance`: same files, one pooled
connection per shard). Prints each duration and its ratio to the reference.

    uv run python bench/event_log.py [--slots 48]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import dagster as dg

from pipeline.defs.instance import persistent_instance
from pipeline.defs.launch import run_poll_job, slot_keys_between
from pipeline.settings import Settings
from pipeline.simulator import SEED_EXAMPLE_INSTANT

InstanceFactory = Callable[[Path], AbstractContextManager[dg.DagsterInstance]]


def timed(folder: Path, slots: int, make: InstanceFactory) -> float:
    settings = Settings(db_path=folder / "b.duckdb")
    keys = slot_keys_between(
        settings, SEED_EXAMPLE_INSTANT - timedelta(hours=slots), SEED_EXAMPLE_INSTANT
    )
    with make(folder / "dagster") as instance:
        started = time.perf_counter()
        result = run_poll_job(settings, keys, instance=instance)
        seconds = time.perf_counter() - started
    assert result.success
    return seconds


def stock(home: Path) -> AbstractContextManager[dg.DagsterInstance]:
    home.mkdir(parents=True)
    return dg.DagsterInstance.from_config(str(home))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slots", type=int, default=48)
    args = parser.parse_args()
    runs: dict[str, InstanceFactory] = {
        "ephemeral (reference)": lambda _: dg.DagsterInstance.ephemeral(),
        "stock SQLite folder": stock,
        "pooled SQLite folder": persistent_instance,
    }
    results = {}
    for name, make in runs.items():
        with tempfile.TemporaryDirectory() as folder:
            results[name] = timed(Path(folder), args.slots, make)
    reference = results["ephemeral (reference)"]
    print(f"single-run backfill of {args.slots} slots x 14 clients, poll job with slot checks")
    for name, seconds in results.items():
        print(f"  {name:24s} {seconds:7.2f} s   ratio {seconds / reference:5.2f}")


if __name__ == "__main__":
    main()
