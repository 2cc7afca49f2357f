"""Dagster for real: materialize the partitioned assets against the simulator over loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.defs.definitions import POLL_JOB, build_definitions
from pipeline.defs.partitions import PARTITION_FMT
from pipeline.settings import Settings
from pipeline.simulator import (
    SEED_EXAMPLE_CLIENT,
    SEED_EXAMPLE_INSTANT,
    SimulatorConfig,
    SimulatorServer,
    demo_credentials,
)

ROOT = Path(__file__).resolve().parent.parent
# This environment's `dg`, as `uv run dg` would find it, without uv's sync check (≈ 1.5 s);
# VIRTUAL_ENV names the project's environment, as `uv run` sets it, or dg warns of a mismatch.
DG = Path(sys.executable).with_name("dg")
DG_ENV = {**os.environ, "VIRTUAL_ENV": sys.prefix}
SEED_KEY = SEED_EXAMPLE_INSTANT.strftime(PARTITION_FMT)


# Partitions from a day before the seed example, so its slot and the week before it exist.
START = SEED_EXAMPLE_INSTANT - timedelta(days=8)


def materialize(settings: Settings, *, partition_key: str | None = None, tags=None):
    if settings.pipeline_start is None:
        settings = replace(settings, pipeline_start=START)
    defs = build_definitions(settings)
    job = defs.resolve_job_def(POLL_JOB)
    with dg.DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            partition_key=partition_key, instance=instance, raise_on_error=False, tags=tags
        )


@pytest.mark.slow
def test_materializing_a_slot_lands_the_seed_example(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    result = materialize(Settings(db_path=db), partition_key=SEED_KEY)
    assert result.success
    meta = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.asset_materializations_for_node("fetch_round")
    }
    clients = len(demo_credentials(SimulatorConfig()))
    assert meta["fetch_attempts"]["rows_added"].value == clients
    assert meta["fetch_attempts"]["requests"].value == clients
    assert (
        meta["raw_responses"]["dagster/row_count"].value
        == meta["fetch_attempts"]["dagster/row_count"].value
    )
    assert meta["clients"]["clients_first_seen"].value == clients
    con = duckdb.connect(str(db), read_only=True)
    total = con.execute(
        "select total_floating_balance::varchar from balance_snapshots "
        "where client_number = ? and slot_start = ?",
        [SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT],
    ).fetchone()
    assert total == ("72888.65",)


@pytest.mark.slow
def test_a_multi_day_range_backfills_in_a_single_run(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    # A day and an hour: 25 slots across two UTC days (noon to noon).
    first = (SEED_EXAMPLE_INSTANT - timedelta(days=1)).strftime(PARTITION_FMT)
    result = materialize(
        Settings(db_path=db),
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": SEED_KEY,
        },
    )
    assert result.success
    con = duckdb.connect(str(db), read_only=True)
    slots = con.execute(
        "select count(distinct slot_start), count(distinct timezone('UTC', slot_start)::date)"
        " from balance_snapshots"
    ).fetchone()
    assert slots == (24 + 1, 2)


@pytest.mark.slow
def test_each_partition_of_a_multi_slot_run_describes_its_own_slot(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    middle = (SEED_EXAMPLE_INSTANT - timedelta(hours=1)).strftime(PARTITION_FMT)
    assert materialize(Settings(db_path=db), partition_key=middle).success
    first = (SEED_EXAMPLE_INSTANT - timedelta(hours=2)).strftime(PARTITION_FMT)
    result = materialize(
        Settings(db_path=db),
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": SEED_KEY,
        },
    )
    assert result.success
    meta = {
        (m.asset_key.to_user_string(), m.partition): m.metadata
        for node in ("fetch_round", "balance_history")
        for m in result.asset_materializations_for_node(node)
    }
    clients = len(demo_credentials(SimulatorConfig()))
    for key in (first, SEED_KEY):
        assert meta["fetch_attempts", key]["requests"].value == clients
        assert meta["balance_snapshots", key]["rows_added"].value == clients
    # The middle slot was complete before this run: nobody was asked, nothing was added.
    assert meta["fetch_attempts", middle]["requests"].value == 0
    assert meta["fetch_attempts", middle]["skipped_complete"].value == clients
    for table in ("raw_responses", "fetch_attempts", "balance_snapshots", "balance_lines"):
        assert meta[table, middle]["rows_added"].value == 0
        assert (
            meta[table, middle]["dagster/row_count"].value
            == meta[table, first]["dagster/row_count"].value
        )
    lines = meta["balance_lines", SEED_KEY]["dagster/row_count"].value
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(
        "select count(*) from balance_lines where slot_start = ?", [SEED_EXAMPLE_INSTANT]
    ).fetchone() == (lines,)


@pytest.mark.slow
def test_a_usd_instance_lands_usd_as_base_currency(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    settings = Settings(db_path=db, simulator_base_currency="USD")
    assert materialize(settings, partition_key=SEED_KEY).success
    con = duckdb.connect(str(db), read_only=True)
    bases = con.execute("select distinct base_currency from balance_lines").fetchall()
    assert bases == [("USD",)]
    usd_rates = con.execute(
        "select distinct implied_rate from balance_lines where currency = 'USD'"
    ).fetchall()
    assert usd_rates == [(1.0,)]


@pytest.fixture
def live_simulator():
    """A simulator the pipeline treats as a *live* instance (reached through HYPER_BASE_URL)."""
    with SimulatorServer(SimulatorConfig()) as server:
        yield server


def write_clients(path: Path, rows: list[tuple[int, str]]) -> Path:
    path.write_text(
        "client_number,api_password,label\n" + "".join(f"{n},{p},c{n}\n" for n, p in rows)
    )
    return path


@pytest.mark.slow
def test_one_failing_client_does_not_stop_the_others(tmp_path: Path, live_simulator) -> None:
    creds = demo_credentials(SimulatorConfig())[:4]
    rows = [(c.client_number, c.api_password) for c in creds]
    rows[1] = (rows[1][0], "WrongPassword1")
    rows.append((999_999, "NoSuchClient9"))
    settings = Settings(
        db_path=tmp_path / "b.duckdb",
        # Real pacing, no real wait: 20 a second, not the vendor's 20 a minute.
        rate_limit_per_minute=1200,
        base_url=live_simulator.url,
        clients_file=write_clients(tmp_path / "clients.csv", rows),
    )
    now_key = build_definitions(settings).resolve_job_def(POLL_JOB).partitions_def
    key = now_key.get_last_partition_key()
    assert materialize(settings, partition_key=key).success
    con = duckdb.connect(str(settings.db_path), read_only=True)
    outcomes = dict(con.execute("select client_number, outcome from fetch_attempts").fetchall())
    assert outcomes[rows[1][0]] == "auth_error"
    assert outcomes[999_999] == "api_error"
    assert sum(1 for o in outcomes.values() if o in ("ok", "restricted")) == 3
    errors = con.execute("select error from fetch_attempts where outcome <> 'ok'").fetchall()
    assert all("WrongPassword1" not in e for (e,) in errors)
    assert any(f"client {rows[1][0]}" in e for (e,) in errors)
    snapshots = con.execute("select count(*) from balance_snapshots").fetchone()
    assert snapshots == (3,)


def test_a_past_slot_against_a_live_instance_fails_clearly(tmp_path: Path, live_simulator) -> None:
    creds = demo_credentials(SimulatorConfig())[:2]
    settings = Settings(
        db_path=tmp_path / "b.duckdb",
        base_url=live_simulator.url,
        clients_file=write_clients(
            tmp_path / "c.csv", [(c.client_number, c.api_password) for c in creds]
        ),
    )
    result = materialize(settings, partition_key=SEED_KEY)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert "past slot" in message and "only answers for the current moment" in message


def test_the_schedule_polls_the_slot_in_progress() -> None:
    defs = build_definitions(Settings(pipeline_start=START))
    schedule = defs.resolve_schedule_def("poll_schedule")
    assert schedule.cron_schedule == "0 * * * *"
    tick = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    ) as context:
        request = next(iter(schedule.evaluate_tick(context).run_requests))
    assert request.partition_key == "2026-11-25-14:00"


@pytest.mark.slow
def test_dg_check_defs_passes() -> None:
    result = subprocess.run(
        [str(DG), "check", "defs"],
        cwd=ROOT,
        env=DG_ENV,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_settings_change_the_partition_cadence() -> None:
    settings = replace(Settings(pipeline_start=START), poll_cron="*/15 * * * *")
    partitions = build_definitions(settings).resolve_job_def(POLL_JOB).partitions_def
    window = partitions.time_window_for_partition_key("2026-11-25-14:15")
    assert (window.end - window.start).total_seconds() == 15 * 60
