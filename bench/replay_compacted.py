"""Replay of compacted periods at broker scale: client-range batches against slot batches.

`pipeline maintain` rewrites each closed period clustered by client, so that one-client reads
skip most of the table. A replay used to cut every period into batches of whole slots; in a
compacted period each such batch reads every row group of the period. This builds a store of a
10,000-client book (the simulator's answers for one day of hourly slots, replicated over
`--days` days as bench/ingest.py does), ingests it, makes a compacted copy (every closed
period), and times, each in its own process on its own copy, a replay of the longest compacted
period:

- uncompacted:        the same replay on the store as ingested (slot-ordered row groups);
- compacted:          the replay as shipped: a compacted period in batches of client ranges;
- compacted by slots: the same with compacted periods batched by slots, as replay did before
                      (no-op only: a rebuild that way ran out of DuckDB's writer memory after
                      about 17 minutes at 10,000 clients);

each as a no-op (nothing to change) and as a rebuild of one day (its snapshots and lines
deleted first, so the derived facts of the rest of the period are carried on). Checksums of
the history are compared with the ingested store's after every replay.

    uv run python bench/replay_compacted.py                 # 10,000 clients x 9 days (~15 min)
    uv run python bench/replay_compacted.py --clients 2000  # the same shape, smaller
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from ingest import build_raw, peak_rss_mb, slot_range
from replay import checksums

import pipeline.store.history as history
from pipeline.rounds.ingest import ingest_range
from pipeline.rounds.replay import REPLAY_BATCH_ROWS, replay
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig
from pipeline.simulator.clients import client_book
from pipeline.simulator.responses import balance_body
from pipeline.store import Database, open_store
from pipeline.store.history import Selection
from pipeline.store.maintenance import compact_period, due_periods


def book(clients: int) -> list[tuple[int, datetime, str]]:
    """One day of hourly answers of a `clients`-client book."""
    config = SimulatorConfig(n_extra_clients=clients - 14)
    numbers = list(client_book(config.seed, config.n_extra_clients))
    slots = [SEED_EXAMPLE_INSTANT + timedelta(hours=h) for h in range(24)]
    return [(n, s, balance_body(config, n, s)[1].decode()) for s in slots for n in numbers]


def compact(db: Path) -> tuple[datetime, datetime]:
    """Compact every closed period (as `pipeline maintain` does); return the longest (the
    latest of those: the first week holds only the history's first half day)."""
    with open_store(db) as store:
        periods = due_periods(store)
        for period in periods:
            compact_period(store, period, lake=False)
    return max(periods, key=lambda p: (p[1] - p[0], p[0]))


def drop_day(db: Path, day: datetime) -> None:
    """Delete one day's snapshots and lines, as a rebuild's starting point."""
    con = duckdb.connect(str(db))
    try:
        for table in ("balance_lines", "balance_snapshots"):
            con.execute(
                f"delete from {table} where slot_start >= $a and slot_start < $b",
                {"a": day, "b": day + timedelta(days=1)},
            )
        con.execute("checkpoint")
    finally:
        con.close()


def run_child(db: Path, start: str, end: str, by_slots: bool, batch_rows: int) -> None:
    """Replay [start, end) in this fresh process; print its figures as one JSON line."""
    if by_slots:  # every period read as if uncompacted: how replay batched before
        history._compacted_periods = lambda store: []  # type: ignore[assignment]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_at_start = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    selection = Selection(datetime.fromisoformat(start), datetime.fromisoformat(end))
    with open_store(db) as store:
        summary = replay(store, selection, batch_rows=batch_rows)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "lines": summary.lines,
                "batches": summary.batches,
                "changed": sum(summary.changes.values()),
                "seconds": time.perf_counter() - started,
                "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_at_start,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


def child(db: Path, period: tuple[datetime, datetime], by_slots: bool, rows: int) -> dict:
    args = [sys.executable, __file__, "--child", str(db), period[0].isoformat()]
    args += [period[1].isoformat(), "--batch-rows", str(rows)] + (
        ["--by-slots"] if by_slots else []
    )
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"replay failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=9, help="days of hourly slots (>= 9)")
    parser.add_argument("--batch-rows", type=int, default=REPLAY_BATCH_ROWS)
    parser.add_argument("--workdir", type=Path, help="keep the databases here")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--by-slots", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(Path(args.child[0]), *args.child[1:], args.by_slots, args.batch_rows)
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-replay-compacted-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        plain, compacted = workdir / "ingested.duckdb", workdir / "compacted.duckdb"
        responses = build_raw(plain, book(args.clients), args.days)
        database = Database(plain)
        with database.writer() as store:
            first, end = slot_range(store)
        lines = ingest_range(database, first, end).lines
        built = time.perf_counter() - started
        shutil.copy(plain, compacted)
        started = time.perf_counter()
        period = compact(compacted)
        compaction = time.perf_counter() - started
        before = checksums(plain)
        print(
            f"data: {args.clients:,} clients x {args.days} days: {responses:,} responses, "
            f"{lines:,} lines, built and ingested in {built:.0f} s; compacting every closed "
            f"period took {compaction:.0f} s; replayed: {period[0]:%Y-%m-%d} to "
            f"{period[1]:%Y-%m-%d}"
        )
        day = period[0] + timedelta(days=1)
        runs = {
            "uncompacted, no-op": (plain, False, False),
            "compacted, no-op": (compacted, False, False),
            "compacted by slots, no-op": (compacted, True, False),
            "uncompacted, rebuild a day": (plain, False, True),
            "compacted, rebuild a day": (compacted, False, True),
        }
        results: dict[str, dict[str, Any]] = {}
        for name, (origin, by_slots, rebuild) in runs.items():
            db = workdir / "run.duckdb"
            shutil.copy(origin, db)
            if rebuild:
                drop_day(db, day)
            results[name] = child(db, period, by_slots, args.batch_rows)
            results[name]["same"] = checksums(db) == before
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        f"{'replay':<28}{'batches':>8}{'lines':>11}{'changed':>10}{'seconds':>9}{'cpu s':>8}"
        f"{'peak RSS':>10}  checksums"
    )
    for name, r in results.items():
        print(
            f"{name:<28}{r['batches']:>8,}{r['lines']:>11,}{r['changed']:>10,}"
            f"{r['seconds']:>9.1f}{r['cpu_seconds']:>8.1f}{r['peak_rss_mb']:>8.0f}MB  "
            f"{'identical' if r['same'] else 'DIFFER'}"
        )
    s = {name: r["seconds"] for name, r in results.items()}
    print(
        "ratios: no-op compacted/uncompacted "
        f"{s['compacted, no-op'] / s['uncompacted, no-op']:.2f}, by slots/by client ranges "
        f"{s['compacted by slots, no-op'] / s['compacted, no-op']:.2f}; rebuild of a day "
        f"compacted/uncompacted "
        f"{s['compacted, rebuild a day'] / s['uncompacted, rebuild a day']:.2f}; checksums "
        f"{'identical' if all(r['same'] for r in results.values()) else 'DIFFER'}"
    )
    if not all(r["same"] for r in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
