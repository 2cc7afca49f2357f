"""Analysts and the schedule never block each other: real processes on one real DuckDB file.

`pipeline run` runs as a subprocess against an in-process simulator, paced so the round lasts
long enough for analysts to query it, hold it, and race it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from clock import DAILY_CRON, within_one_slot

from pipeline.analytics.queries import bind, load_query, run_bound
from pipeline.analytics.readonly import open_readonly
from pipeline.cli import main
from pipeline.simulator import SimulatorConfig, SimulatorServer, write_credentials_csv
from pipeline.simulator.faults import FaultPlan
from tests.invariants import assert_no_snapshot_without_lines

N_CLIENTS = 24
# 24 clients at 120 a minute: the round lasts about 12 s, the reader holds the file for 5 of
# them (landings every 2 s at most: two or more go to the spool) and analysts query throughout.
PACE_PER_MINUTE = "120"
CONFIG = SimulatorConfig(n_extra_clients=N_CLIENTS - 14, faults=FaultPlan())


@pytest.fixture
def paced(tmp_path: Path) -> Iterator[tuple[SimulatorServer, dict[str, str], Path]]:
    creds = write_credentials_csv(tmp_path / "clients.csv", CONFIG)
    db = tmp_path / "db" / "balances.duckdb"
    with SimulatorServer(CONFIG) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPER_", "PIPELINE_"))}
        env.pop("DAGSTER_HOME", None)
        env.update(
            HYPER_BASE_URL=server.url,
            HYPER_CLIENTS_FILE=str(creds),
            HYPER_RATE_LIMIT_PER_MINUTE=PACE_PER_MINUTE,
            HYPER_TIMEOUT_SECONDS="5",
            PIPELINE_DB=str(db),
        )
        yield server, env, db


def pipeline(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def hold_read_only(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process (an analyst's kernel) holding a read-only connection open."""
    code = (
        "import duckdb, sys, time\n"
        "deadline = time.monotonic() + 60\n"
        "while True:\n"  # the writer may hold the file this instant: a moment later it won't
        "    try:\n"
        f"        con = duckdb.connect({str(db)!r}, read_only=True)\n"
        "        break\n"
        "    except duckdb.IOException:\n"
        "        if time.monotonic() > deadline: raise\n"
        "        time.sleep(0.05)\n"
        "print('holding', flush=True)\n"
        f"time.sleep({seconds})\n"
        "con.close()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding", holder.stderr
    return holder


def wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def snapshot_counts(db: Path) -> tuple[int, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "select count(*), count(distinct (client_number, slot_start)) from balance_snapshots"
        ).fetchone()
        assert_no_snapshot_without_lines(con)
    finally:
        con.close()
    assert row is not None
    return row[0], row[1]


@pytest.mark.slow
def test_analysts_query_throughout_a_paced_round_and_a_held_reader_loses_nothing(
    paced: tuple[SimulatorServer, dict[str, str], Path],
) -> None:
    server, env, db = paced
    started = time.monotonic()
    run = pipeline(env, "run")
    wait_for(db)
    answered, waits, holder = 0, [], None
    while run.poll() is None:
        asked = time.monotonic()
        if answered == 0:  # the command an analyst types, end to end: exit status, no traceback
            query = pipeline(env, "query", "largest_locked", "--format", "csv")
            _out, err = query.communicate(timeout=120)
            assert query.returncode == 0, err
            assert "Traceback" not in err
        else:  # then the same read in this process: a process per read cost 2-3 CPU-s
            con = open_readonly(db, wait_seconds=30.0)  # `pipeline query`'s own wait and code
            try:
                run_bound(con, "largest_locked", bind(load_query("largest_locked"), {}))
            finally:
                con.close()
        answered += 1
        waits.append(time.monotonic() - asked)
        if holder is None and time.monotonic() - started > 3:
            holder = hold_read_only(db, 5)  # mid-round: the writer must spool, not fail
        time.sleep(1)
    _out, err = run.communicate()
    assert run.returncode == 0, err
    assert holder is not None
    holder.wait(timeout=30)
    assert time.monotonic() - started >= 10, "the round was not paced long enough to matter"
    assert answered >= 3  # seconds apart on a busy machine (the first is a new process)
    # Every client has its one snapshot, nothing waits in the spool, nobody was asked twice.
    assert snapshot_counts(db) == (N_CLIENTS, N_CLIENTS)
    spool = db.parent / (db.name + ".spool")
    assert spool.is_dir(), "the held reader never made the writer spool"  # made by the first
    assert not list(spool.glob("*.ndjson"))
    assert sorted(server.state.faults.attempts.values()) == [1] * N_CLIENTS
    con = duckdb.connect(str(db), read_only=True)
    attempts = con.execute("select count(*) from fetch_attempts").fetchone()
    con.close()
    assert attempts == (N_CLIENTS,)
    print(f"queries answered {answered}, longest wait {max(waits):.2f} s")


@pytest.mark.slow
@pytest.mark.parametrize("command", [["replay"], ["run"]])
def test_a_writer_waits_for_a_reader_holding_the_file_then_completes(
    paced: tuple[SimulatorServer, dict[str, str], Path],
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, env, db = paced
    env = {**env, "HYPER_RATE_LIMIT_PER_MINUTE": "0", "PIPELINE_POLL_CRON": DAILY_CRON}
    within_one_slot(180)
    # The history to replay or complete, written in this process (a `pipeline run` process
    # here cost ≈ 5 CPU-s and proved nothing): the processes that matter are the two below.
    for name in [n for n in os.environ if n.startswith(("HYPER_", "PIPELINE_"))]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith(("HYPER_", "PIPELINE_")):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["run"]) == 0
    before = snapshot_counts(db)
    holder = hold_read_only(db, 6)
    writer = pipeline(env, *command)
    _out, err = writer.communicate(timeout=120)
    # The writer needed the file, so it can only have finished after the reader let go.
    assert holder.poll() is not None, "the writer finished while a reader held the file"
    assert writer.returncode == 0, err
    assert "Traceback" not in err
    assert snapshot_counts(db) == before  # complete already: nothing new, nothing lost
