"""What `dg dev` shows: where partitions start, the demo's history in a persistent instance,
the analytics assets re-materialized after a poll, and `dg list defs` agreeing with test_defs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from test_defs import BOOK_CHECKS, INGESTION, SLOT_CHECKS, VIEWS

from pipeline.cli import main
from pipeline.defs.analytics import REPORT
from pipeline.defs.definitions import build_definitions, defs
from pipeline.defs.partitions import PARTITION_FMT, start_of_day, with_start
from pipeline.settings import ConfigurationError, Settings
from pipeline.simulator import SEED_EXAMPLE_INSTANT
from pipeline.store import connect

ROOT = Path(__file__).resolve().parent.parent
# This environment's `dg`, as `uv run dg` would find it, without uv's sync check (≈ 1.5 s);
# VIRTUAL_ENV names the project's environment, as `uv run` sets it, or dg warns of a mismatch.
DG = Path(sys.executable).with_name("dg")
DG_ENV = {**os.environ, "VIRTUAL_ENV": sys.prefix}
UNTIL = SEED_EXAMPLE_INSTANT.isoformat()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "data" / "balances.duckdb"
    for name in ("HYPER_BASE_URL", "HYPER_CLIENTS_FILE", "DAGSTER_HOME", "PIPELINE_START"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIPELINE_DB", str(db))
    return db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T00:00Z", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T02:00:00+02:00", datetime(2026, 11, 1, tzinfo=UTC)),
    ],
)
def test_pipeline_start_is_an_iso_instant_in_utc(text: str, expected: datetime) -> None:
    assert Settings.from_env({"PIPELINE_START": text}).pipeline_start == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [("last week", "is not an ISO-8601 date or instant"), ("2999-01-01", "is in the future")],
)
def test_a_bad_pipeline_start_is_one_line_and_exit_2(
    text: str, says: str, env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    with pytest.raises(ConfigurationError, match=says):
        Settings.from_env({"PIPELINE_START": text})
    monkeypatch.setenv("PIPELINE_START", text)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "PIPELINE_START" in err[0] and says in err[0]


def test_partitions_start_where_the_data_does(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "b.duckdb")
    # No database (nothing is created by looking), then an empty one: the current UTC day.
    assert with_start(settings).pipeline_start == start_of_day()
    assert not settings.db_path.exists()
    connect(settings.db_path).close()
    assert with_start(settings).pipeline_start == start_of_day()
    # The first slot the database holds, polled or imported.
    con = connect(settings.db_path)
    first = datetime(2026, 10, 30, 7, tzinfo=UTC)
    con.execute(
        "insert into raw_responses values ('r', 1, $at, $at, 200, '{}', 'utf-8', 2, false)",
        {"at": first},
    )
    con.execute(
        "insert into fetch_attempts values ('run', $at, 1, 1, $at, 1, 200, 0, 'ok', null, 'r')",
        {"at": first + timedelta(hours=5)},
    )
    con.close()
    assert with_start(settings).pipeline_start == first
    partitions = build_definitions(with_start(settings)).resolve_job_def("poll_job")
    assert partitions.partitions_def is not None
    assert partitions.partitions_def.get_first_partition_key() == "2026-10-30-07:00"
    # PIPELINE_START, when set, wins.
    chosen = Settings(db_path=settings.db_path, pipeline_start=datetime(2026, 11, 2, tzinfo=UTC))
    assert with_start(chosen).pipeline_start == datetime(2026, 11, 2, tzinfo=UTC)


@pytest.mark.slow
def test_the_demo_fills_the_partitions_dg_dev_shows(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert main(["demo", "--days", "0.125", "--until", UNTIL, "--no-report"]) == 0
    home = env.parent / ".dagster"
    assert f"DAGSTER_HOME={home.resolve()} uv run dg dev" in capsys.readouterr().out
    # What `dg dev` with that DAGSTER_HOME loads: the code location's own definitions, and
    # the instance through Dagster's stock storage.
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    location = defs()
    partitions = location.resolve_job_def("poll_job").partitions_def
    assert partitions is not None
    demo = [(SEED_EXAMPLE_INSTANT - timedelta(hours=h)).strftime(PARTITION_FMT) for h in (3, 2, 1)]
    assert partitions.get_first_partition_key() == demo[0]
    with dg.DagsterInstance.get() as instance:
        for table in INGESTION:
            assert instance.get_materialized_partitions(dg.AssetKey(table)) == set(demo), table
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        checks = [
            e.dagster_event.event_specific_data
            for e in instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            )
        ]
    assert sorted((c.check_name, c.partition) for c in checks) == sorted(
        (label.split(":")[1], key) for label in SLOT_CHECKS for key in demo
    )


def test_the_analytics_follow_each_poll(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "b.duckdb", pipeline_start=SEED_EXAMPLE_INSTANT)
    definitions = build_definitions(settings)
    analytics = {*VIEWS, REPORT}
    keys = [(SEED_EXAMPLE_INSTANT + timedelta(hours=h)).strftime(PARTITION_FMT) for h in (3, 4)]

    def requested(instance: dg.DagsterInstance, cursor):
        result = dg.evaluate_automation_conditions(
            defs=definitions, instance=instance, cursor=cursor
        )
        keys = {
            name
            for name in [*INGESTION, *analytics]
            if result.get_requested_partitions(dg.AssetKey(name))
        }
        return keys, result.cursor

    def land(instance: dg.DagsterInstance, names: list[str], partition: str | None) -> None:
        for name in names:
            event = dg.AssetMaterialization(name, partition=partition)
            instance.report_runless_asset_event(event)

    with dg.DagsterInstance.ephemeral() as instance:
        # Nothing happens before a slot lands.
        nothing, cursor = requested(instance, None)
        assert nothing == set()
        # A new slot, whose older slots were never polled: gaps do not hold the analytics back.
        land(instance, ["balance_snapshots", "balance_lines"], keys[0])
        after_poll, cursor = requested(instance, cursor)
        assert after_poll == analytics
        land(instance, sorted(analytics), None)
        quiet, cursor = requested(instance, cursor)
        assert quiet == set()
        # The next slot: once more.
        land(instance, ["balance_lines"], keys[1])
        again, cursor = requested(instance, cursor)
        assert again == analytics


@pytest.mark.slow
def test_dg_list_defs_shows_the_pinned_graph() -> None:
    result = subprocess.run(
        [str(DG), "list", "defs", "--json"],
        cwd=ROOT,
        env=DG_ENV,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert sorted(a["asset_key"] for a in listed["assets"]) == sorted([*INGESTION, *VIEWS, REPORT])
    assert sorted(c["key"] for c in listed["asset_checks"]) == sorted([*SLOT_CHECKS, *BOOK_CHECKS])
    assert sorted(j["name"] for j in listed["jobs"]) == [
        "book_checks_job",
        "maintenance_job",
        "poll_job",
        "replay_job",
    ]
    assert sorted(s["name"] for s in listed["schedules"]) == [
        "book_checks_schedule",
        "maintenance_schedule",
        "poll_schedule",
    ]
    assert [s["name"] for s in listed["sensors"]] == ["analytics_automation_sensor"]
    kinds = {a["asset_key"]: set(a["kinds"]) for a in listed["assets"]}
    assert kinds["report"] == {"jupyter", "html"} and kinds["balance_lines"] == {"polars", "duckdb"}


def test_the_cli_instance_folder_is_dagsters_own_with_a_pooled_event_log(tmp_path: Path) -> None:
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from pipeline.defs.instance import PooledSqliteEventLogStorage, persistent_instance

    home = tmp_path / ".dagster"
    with persistent_instance(home) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        instance.report_runless_asset_event(dg.AssetMaterialization("balance_lines", partition="k"))
    # What `dg dev` opens: the stock storage over the same files.
    with dg.DagsterInstance.from_config(str(home)) as stock:
        assert type(stock.event_log_storage) is SqliteEventLogStorage
        assert stock.get_materialized_partitions(dg.AssetKey("balance_lines")) == {"k"}
    # A folder configured by its owner is used as configured.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with persistent_instance(home) as instance:
        assert type(instance.event_log_storage) is SqliteEventLogStorage
