"""Rounds that go wrong say so, lose nothing, and never ask twice; bad settings are one line."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import pipeline.rounds.ingest as ingest_module
from pipeline.cli import main
from pipeline.defs.definitions import POLL_JOB, build_definitions
from pipeline.settings import Settings
from pipeline.simulator import SimulatorConfig, SimulatorServer, demo_credentials
from pipeline.simulator.faults import FaultPlan

CONFIG = SimulatorConfig(faults=FaultPlan())


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(CONFIG) as running:
        yield running


def clients_file(path: Path, *, wrong_passwords: bool = False) -> Path:
    rows = [
        f"{c.client_number},{'Wrong' + c.api_password if wrong_passwords else c.api_password}"
        for c in demo_credentials(CONFIG)[:5]
    ]
    path.write_text("client_number,api_password\n" + "\n".join(rows) + "\n")
    return path


def count(db: Path, sql: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


@pytest.fixture
def live_env(server: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("HYPER_", "PIPELINE_")) or name == "DAGSTER_HOME":
            monkeypatch.delenv(name)
    db = tmp_path / "balances.duckdb"
    monkeypatch.setenv("PIPELINE_DB", str(db))
    monkeypatch.setenv("HYPER_BASE_URL", server.url)
    monkeypatch.setenv("HYPER_RATE_LIMIT_PER_MINUTE", "0")
    monkeypatch.setenv("HYPER_BACKOFF_BASE_SECONDS", "0.01")
    monkeypatch.chdir(tmp_path)
    return db


def test_a_round_where_every_client_fails_exits_1_with_one_line_and_records_every_attempt(
    live_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    wrong = clients_file(tmp_path / "c.csv", wrong_passwords=True)
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(wrong))
    assert main(["run"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "pipeline run: failed: round failed: every one of the 5 clients polled failed "
        "(auth_error 5)"
    )
    assert count(live_env, "select count(*) from fetch_attempts where outcome = 'auth_error'") == 5


def test_a_web_server_that_is_not_hyper_fails_the_round(
    live_env: Path, server: SimulatorServer, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HYPER_BASE_URL", server.url + "/not-the-api")
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients_file(tmp_path / "c.csv")))
    assert main(["run"]) == 1
    assert "every one of the 5 clients polled failed" in capsys.readouterr().err
    assert count(live_env, "select count(*) from fetch_attempts") == 5


@pytest.mark.slow
def test_some_failures_among_successes_stay_a_success_unless_a_share_is_set(
    live_env: Path, server: SimulatorServer, tmp_path: Path, monkeypatch, capsys
) -> None:
    path = clients_file(tmp_path / "c.csv")
    path.write_text(path.read_text() + "999999,NoSuchClient1\n")
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(path))
    assert main(["run"]) == 0
    # Stricter, on a fresh database: more than 10% of the clients failing fails the round.
    monkeypatch.setenv("PIPELINE_DB", str(tmp_path / "strict.duckdb"))
    monkeypatch.setenv("PIPELINE_MAX_FAILED_SHARE", "0.1")
    assert main(["run"]) == 1
    assert "1 of 6 clients failed (17% > 10%: api_error 1)" in capsys.readouterr().err


def test_an_all_failed_round_fails_the_dagster_run(server: SimulatorServer, tmp_path: Path) -> None:
    settings = Settings(
        db_path=tmp_path / "b.duckdb",
        base_url=server.url,
        clients_file=clients_file(tmp_path / "c.csv", wrong_passwords=True),
        rate_limit_per_minute=0,
    )
    job = build_definitions(settings).resolve_job_def(POLL_JOB)
    assert job.partitions_def is not None
    key = job.partitions_def.get_last_partition_key()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(partition_key=key, instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data is not None and failure.step_failure_data.error is not None
    assert "every one of the 5 clients polled failed" in failure.step_failure_data.error.message
    assert count(settings.db_path, "select count(*) from fetch_attempts") == 5


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 48 MB filesystem (tmpfs), so the disk can really fill up."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = os.geteuid() == 0 and shutil.which("mount") is not None
    if mounted:
        mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(disk)],
                capture_output=True,
            ).returncode
            == 0
        )
    if not mounted:
        if os.environ.get("CI"):
            pytest.fail("CI must be able to mount a tmpfs (run as root) for the disk-full test")
        pytest.skip("mounting a small tmpfs needs root; the disk-full test runs in CI")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out:
        chunk = b"\0" * (1 << 20)
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass
    return filler


@pytest.mark.slow
def test_disk_full_during_normalization_then_freed_asks_nobody_again(
    small_disk: Path, server: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        db_path=small_disk / "balances.duckdb",
        base_url=server.url,
        clients_file=clients_file(tmp_path / "c.csv"),
        rate_limit_per_minute=0,
    )
    job = build_definitions(settings).resolve_job_def(POLL_JOB)
    assert job.partitions_def is not None
    key = job.partitions_def.get_last_partition_key()
    original = ingest_module.normalize_raw
    fillers: list[Path] = []

    def normalize_on_a_full_disk(raw):  # the answers have landed; now the disk fills up
        fillers.append(fill(small_disk))
        return original(raw)

    monkeypatch.setattr(ingest_module, "normalize_raw", normalize_on_a_full_disk)
    with dg.DagsterInstance.ephemeral() as instance:
        first = job.execute_in_process(partition_key=key, instance=instance, raise_on_error=False)
    assert not first.success
    monkeypatch.setattr(ingest_module, "normalize_raw", original)
    fillers[0].unlink()  # space freed
    asked = dict(server.state.faults.attempts)
    assert sorted(asked.values()) == [1] * 5
    with dg.DagsterInstance.ephemeral() as instance:
        second = job.execute_in_process(partition_key=key, instance=instance, raise_on_error=False)
    assert second.success
    assert dict(server.state.faults.attempts) == asked  # nobody was polled again
    db = settings.db_path
    assert count(db, "select count(*) from raw_responses") == 5
    assert count(db, "select count(*) from balance_snapshots") == 5


CONFIG_ERRORS = [
    ({"PIPELINE_POLL_CRON": "every hour"}, ["run"], "PIPELINE_POLL_CRON"),
    ({"HYPER_RATE_LIMIT_PER_MINUTE": "nan"}, ["run"], "HYPER_RATE_LIMIT_PER_MINUTE"),
    ({"HYPER_TIMEOUT_SECONDS": "nan"}, ["run"], "HYPER_TIMEOUT_SECONDS"),
    ({"HYPER_TIMEOUT_SECONDS": "0"}, ["run"], "HYPER_TIMEOUT_SECONDS"),
    ({"PIPELINE_SIMULATOR_BASE_CURRENCY": "XYZ"}, ["demo"], "PIPELINE_SIMULATOR_BASE_CURRENCY"),
    ({"PIPELINE_READ_WAIT_SECONDS": "-1"}, ["query", "largest_locked"], "PIPELINE_READ_WAIT"),
    ({"HYPER_BASE_URL": "https://user:s3cretPw@broker.example"}, ["run"], "must not carry"),
    ({"HYPER_CLIENTS_FILE": "utf16.csv"}, ["run"], "UTF-16"),
    ({}, ["query", "largest_locked", "--db", "."], "is a folder"),
    ({}, ["query", "largest_locked", "--db", "utf16.csv"], "not a DuckDB database"),
    ({}, ["query", "largest_locked", "--param", "limit=-1"], "non-negative"),
    ({}, ["raw", "export", "--out", "a.ndjson", "--db", "missing.duckdb"], "does not exist"),
    ({}, ["replay", "--db", "missing.duckdb"], "does not exist"),
    ({}, ["report", "--db", "missing.duckdb"], "does not exist"),
    ({}, ["simulate", "--fault-rate", "3"], "share between 0 and 1"),
]


@pytest.mark.parametrize(("env", "argv", "named"), CONFIG_ERRORS)
def test_a_bad_setting_is_one_line_and_exit_2(
    env: dict[str, str],
    argv: list[str],
    named: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    demo_db_template: Path,
) -> None:
    for name in list(os.environ):
        if name.startswith(("HYPER_", "PIPELINE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "utf16.csv").write_text("client_number,api_password\n1,pw\n", encoding="utf-16")
    monkeypatch.setenv("PIPELINE_DB", str(demo_db_template))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse (the simulator's options) exits by itself
        status = exc.code
    out, err = capfd.readouterr()
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert named in lines[0]
    assert "Traceback" not in out + err
    assert "s3cretPw" not in out + err


def table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: con.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
            for table in ("raw_responses", "fetch_attempts", "balance_snapshots", "balance_lines")
        }
    finally:
        con.close()


@pytest.mark.slow
def test_an_overflowing_body_rejects_only_itself_live_and_from_an_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Balance 999…9.99999999 with Cash -999…9.99999999: each fits, Balance - Cash does not."""
    creds = demo_credentials(CONFIG)[:5]
    bad = creds[2].client_number
    config = SimulatorConfig(faults=FaultPlan(clients={bad: "overflow"}))
    for name in list(os.environ):
        if name.startswith(("HYPER_", "PIPELINE_")) or name == "DAGSTER_HOME":
            monkeypatch.delenv(name)
    db = tmp_path / "live.duckdb"
    monkeypatch.setenv("PIPELINE_DB", str(db))
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients_file(tmp_path / "c.csv")))
    monkeypatch.setenv("HYPER_RATE_LIMIT_PER_MINUTE", "0")
    with SimulatorServer(config) as live:
        monkeypatch.setenv("HYPER_BASE_URL", live.url)
        assert main(["run"]) == 0
        after_first = table_counts(db)
        # A re-run asks only the rejected client again (failed clients are retried in their
        # slot); its answer is rejected again and nothing else changes.
        assert main(["run"]) == 0
        after_second = table_counts(db)
        assert after_second["balance_snapshots"] == after_first["balance_snapshots"]
        assert after_second["balance_lines"] == after_first["balance_lines"]
        assert after_second["fetch_attempts"] == after_first["fetch_attempts"] + 1
    con = duckdb.connect(str(db), read_only=True)
    outcome, error = con.execute(
        "select outcome, error from fetch_attempts where client_number = ?", [bad]
    ).fetchone()  # type: ignore[misc]
    snapshotted = {
        r[0] for r in con.execute("select client_number from balance_snapshots").fetchall()
    }
    con.close()
    assert outcome == "invalid_response" and "does not fit DECIMAL(38,8)" in error
    assert snapshotted == {c.client_number for c in creds} - {bad}

    # The same answers from an archive: imported and replayed, the good ones land again.
    archive = tmp_path / "answers.ndjson"
    assert main(["raw", "export", "--out", str(archive)]) == 0
    fresh = tmp_path / "fresh.duckdb"
    assert main(["raw", "import", str(archive), "--db", str(fresh)]) == 0
    assert main(["replay", "--db", str(fresh)]) == 0
    assert main(["replay", "--db", str(fresh)]) == 0  # twice: nothing changes
    con = duckdb.connect(str(fresh), read_only=True)
    replayed = {r[0] for r in con.execute("select client_number from balance_snapshots").fetchall()}
    con.close()
    assert replayed == snapshotted
    assert "Traceback" not in capsys.readouterr().err
