"""Crash and concurrency with real processes and a real DuckDB file.

`pipeline run` runs as a subprocess against an in-process simulator whose answers are slowed
down, so a round lasts long enough to be killed in the middle or raced by a second run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from clock import DAILY_CRON, within_one_slot

from pipeline.cli import main
from pipeline.simulator import SimulatorConfig, SimulatorServer, write_credentials_csv
from pipeline.simulator.faults import FaultPlan
from tests.invariants import assert_no_snapshot_without_lines

N_CLIENTS = 200
# 200 answers at 4 workers and 80 ms each: a round of about 4 s, which lands by age (after 2 s,
# 200 answers being under a landing batch) at least once before it ends.
CONFIG = SimulatorConfig(
    n_extra_clients=N_CLIENTS - 14, faults=FaultPlan(base_latency_seconds=0.08)
)


@pytest.fixture
def slow_instance(tmp_path: Path) -> Iterator[tuple[SimulatorServer, dict[str, str]]]:
    creds = write_credentials_csv(tmp_path / "clients.csv", CONFIG)
    with SimulatorServer(CONFIG) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPER_", "PIPELINE_"))}
        env.pop("DAGSTER_HOME", None)
        env.update(
            HYPER_BASE_URL=server.url,
            HYPER_CLIENTS_FILE=str(creds),
            HYPER_MAX_WORKERS="4",
            HYPER_RATE_LIMIT_PER_MINUTE="0",
            HYPER_TIMEOUT_SECONDS="5",
            PIPELINE_DB=str(tmp_path / "db" / "balances.duckdb"),
            PIPELINE_POLL_CRON=DAILY_CRON,
        )
        yield server, env


def start_run(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def balance_requests(server: SimulatorServer) -> int:
    return sum(server.state.faults.attempts.values())


def assert_complete_without_duplicates(db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        snapshots, keys = con.execute(
            "select count(*), count(distinct (client_number, slot_start)) from balance_snapshots"
        ).fetchone()
        assert snapshots == keys == N_CLIENTS
        lines, line_keys = con.execute(
            "select count(*), count(distinct (client_number, slot_start, currency)) "
            "from balance_lines"
        ).fetchone()
        assert lines == line_keys > 0
        assert_no_snapshot_without_lines(con)
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_mid_round_leaves_a_usable_file_and_rerun_completes(slow_instance) -> None:
    server, env = slow_instance
    db = Path(env["PIPELINE_DB"])
    within_one_slot(180)
    run = start_run(env)
    deadline = time.monotonic() + 60
    while balance_requests(server) == 0 and time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()
        time.sleep(0.02)
    # Polling has begun, so the schema is written: the file changes next when the first batch
    # of answers lands. Kill the run right after that, mid-round.
    before_landing = db.stat().st_mtime_ns
    while db.stat().st_mtime_ns == before_landing and time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    served_before_kill = balance_requests(server)
    assert 0 < served_before_kill < N_CLIENTS, "the kill must land mid-round"

    con = duckdb.connect(str(db), read_only=True)  # the file opens after the crash
    try:
        assert_no_snapshot_without_lines(con)
        landed = con.execute("select count(*) from fetch_attempts").fetchone()[0]
        assert 0 < landed < N_CLIENTS, landed
    finally:
        con.close()

    rerun = start_run(env)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert_complete_without_duplicates(db)


@pytest.mark.slow
def test_two_concurrent_runs_one_waits_and_nothing_is_duplicated(slow_instance) -> None:
    server, env = slow_instance
    within_one_slot(180)
    runs = [start_run(env), start_run(env)]
    results = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    assert_complete_without_duplicates(Path(env["PIPELINE_DB"]))
    # The run that waited found every client complete and fetched nobody again.
    assert balance_requests(server) == N_CLIENTS
    assert any("nothing to poll (complete)" in out for out, _ in results)


@pytest.mark.slow
def test_a_run_that_cannot_get_the_lock_fails_with_one_clear_line(
    slow_instance, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, env = slow_instance
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("PIPELINE_LOCK_TIMEOUT_SECONDS", "0.2")
    # The lock is re-entrant within a process, so the holder must be another process.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from pipeline.store.lock import run_lock\n"
            "with run_lock(Path(sys.argv[1]), timeout_seconds=5):\n"
            "    print('held', flush=True); time.sleep(60)",
            env["PIPELINE_DB"],
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["run"]) == 3
    finally:
        holder.kill()
        holder.wait()
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.startswith("pipeline run: another pipeline run is writing")
    assert "PIPELINE_LOCK_TIMEOUT_SECONDS" in message
