"""Replay of stored responses: `pipeline.rounds.replay.replay` against DuckDB's from_json.

Builds a DuckDB file of 1,000,000 stored responses (the simulator's 1,000-client book, one
day of hourly answers replicated over later days, as in bench/ingest.py), ingests them with
the project's route, takes checksums of `balance_snapshots` and `balance_lines`, then times,
each in its own process on its own copy:

- replay (no-op):   `replay(store)` over everything, nothing to change (the common case after
                    a normalization fix touches few rows);
- replay (rebuild): the same after deleting every snapshot and line (everything re-inserted);
- from_json:        the issue's reference: DuckDB's DECIMAL-typed from_json in plain SQL
                    writing both tables into the emptied history (bench/sql/from_json_*.sql;
                    exact on DuckDB 2.0, NOT on the pinned 1.5.5, which reads through a double);
- sql_text:         an exact SQL reference on any version: the amounts cut out of the text with
                    regexp_extract_all (bench/sql/text_*.sql);

and checks the checksums after both replays equal the ones before. Prints a table (lines/s,
CPU seconds, peak RSS), then ratios.

    uv run python bench/replay.py                 # 1M responses (a few minutes on 2 cores)
    uv run python bench/replay.py --scale 3       # 3M responses
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
from pathlib import Path
from typing import Any

import duckdb
from ingest import (
    book_bodies,
    build_raw,
    in_child,
    peak_rss_mb,
    route_from_json,
    route_sql_text,
)

import pipeline.rounds.replay as replay_module
from pipeline.rounds.replay import REPLAY_BATCH_ROWS
from pipeline.store import open_store

HISTORY = ("balance_snapshots", "balance_lines")


def checksums(db: Path) -> dict[str, tuple[int, int]]:
    """(rows, xor of every row's hash) per history table: equal means equal row for row."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: tuple(
                con.execute(
                    f"select count(*), bit_xor(hash(t::varchar)) from {table} as t"
                ).fetchall()[0]
            )
            for table in HISTORY
        }
    finally:
        con.close()


def empty_history(db: Path) -> None:
    con = duckdb.connect(str(db))
    try:
        for table in HISTORY:
            con.execute(f"delete from {table}")
        con.execute("checkpoint")
    finally:
        con.close()


def timed_steps() -> dict[str, float]:
    """Wrap replay's three steps (read a batch, normalize it, diff and apply it) with timers,
    where replay.py looks them up, so the split shows where a replay spends its time."""
    spent = {"read": 0.0, "normalize": 0.0, "diff+apply": 0.0}
    steps = {
        "read": "replay_candidates",
        "normalize": "normalize_raw",
        "diff+apply": "apply_replay",
    }
    for label, name in steps.items():
        step = getattr(replay_module, name)

        def timed(*args: Any, _step: Any = step, _label: str = label, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _step(*args, **kwargs)
            finally:
                spent[_label] += time.perf_counter() - started

        setattr(replay_module, name, timed)
    return spent


def route_replay(db: Path, batch_rows: int) -> dict[str, Any]:
    spent = timed_steps()
    with open_store(db) as store:
        summary = replay_module.replay(store, batch_rows=batch_rows)
    return {
        "bodies": summary.raw_read,
        "lines": summary.lines,
        "batches": summary.batches,
        "changed": sum(summary.changes.values()),
        **spent,
    }


CHILD_ROUTES = {"replay": route_replay, "from_json": route_from_json, "sql_text": route_sql_text}


def run_child(route: str, db: Path, batch_rows: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_at_start = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    result = route_replay(db, batch_rows) if route == "replay" else CHILD_ROUTES[route](db)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result |= {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_at_start,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(result))


def child(route: str, db: Path, batch_rows: int) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", route, "--db", str(db)]
    args += ["--batch-rows", str(batch_rows)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{route} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000, help="at scale 1")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--batch-rows", type=int, default=REPLAY_BATCH_ROWS)
    parser.add_argument("--repeat", type=int, default=1, help="runs per route; the best counts")
    parser.add_argument("--workdir", type=Path, help="keep the databases here")
    parser.add_argument("--child", choices=sorted(CHILD_ROUTES), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.db, args.batch_rows)
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-replay-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        seed = book_bodies()
        copies = max(1, round(args.responses * args.scale / len(seed)))
        source = workdir / "history.duckdb"
        responses = build_raw(source, seed, copies)
        ingested = in_child("project", source)
        before = checksums(source)
        print(
            f"data: {responses:,} stored responses ({copies} days x {len(seed):,}), "
            f"{ingested['lines']:,} lines, built and ingested in "
            f"{time.perf_counter() - started:.0f} s"
        )
        emptied = workdir / "emptied.duckdb"
        shutil.copy(source, emptied)
        empty_history(emptied)

        runs = {
            "replay (no-op)": source,
            "replay (rebuild)": emptied,
            "from_json": emptied,
            "sql_text": emptied,
        }
        results: dict[str, dict[str, Any]] = {}
        same: dict[str, bool] = {}
        for _ in range(args.repeat):  # interleaved, so a busy moment hits every route alike
            for name, origin in runs.items():
                db = workdir / "run.duckdb"
                shutil.copy(origin, db)
                run = child(name.split(" ")[0], db, args.batch_rows)
                if name.startswith("replay"):
                    same[name] = same.get(name, True) and checksums(db) == before
                if name not in results or run["seconds"] < results[name]["seconds"]:
                    results[name] = run
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        f"{'route':<18}{'bodies':>11}{'lines':>11}{'seconds':>9}{'cpu s':>8}{'lines/s':>11}"
        f"{'peak RSS':>10}  checksums"
    )
    for name, r in results.items():
        r["rate"] = r["lines"] / r["seconds"]
        r["cpu_rate"] = r["lines"] / r["cpu_seconds"]
        check = {True: "identical", False: "DIFFER"}.get(same.get(name), "-")  # type: ignore[arg-type]
        print(
            f"{name:<18}{r['bodies']:>11,}{r['lines']:>11,}{r['seconds']:>9.2f}"
            f"{r['cpu_seconds']:>8.2f}{r['rate']:>11,.0f}{r['peak_rss_mb']:>8.0f}MB  {check}"
        )
    noop, rebuild, ref, text = (results[k] for k in runs)
    print(
        f"batches of {args.batch_rows:,} rows: {noop['batches']} (no-op changed "
        f"{noop['changed']} rows; rebuild {rebuild['changed']:,})"
    )
    for name in ("replay (no-op)", "replay (rebuild)"):
        r = results[name]
        split = ", ".join(f"{step} {r[step]:.2f} s" for step in ("read", "normalize", "diff+apply"))
        # normalize runs in a thread beside the previous batch's diff+apply (rounds/replay.py):
        # the parts add up to more than the wall time
        print(f"{name} split: {split} (normalize overlaps diff+apply)")
    print(
        f"ratios: replay no-op/from_json {noop['rate'] / ref['rate']:.2f}, rebuild/from_json "
        f"{rebuild['rate'] / ref['rate']:.2f} (target >= 0.5; per CPU second "
        f"{noop['cpu_rate'] / ref['cpu_rate']:.2f} / {rebuild['cpu_rate'] / ref['cpu_rate']:.2f}; "
        f"from_json is exact only on DuckDB 2.0, this is {duckdb.__version__}), "
        f"no-op/sql_text {noop['rate'] / text['rate']:.2f}, "
        f"rebuild/sql_text {rebuild['rate'] / text['rate']:.2f}, "
        f"peak RSS {max(noop['peak_rss_mb'], rebuild['peak_rss_mb']):.0f} MB (target < 1024), "
        f"checksums {'identical' if all(same.values()) else 'DIFFER'}"
    )
    if not all(same.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
