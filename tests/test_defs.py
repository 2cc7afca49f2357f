"""Pin the Dagster graph: a change to assets, checks, jobs, schedules or sensors shows in review."""

from __future__ import annotations

import dagster as dg
import pytest

from pipeline.defs.definitions import build_definitions
from pipeline.settings import Settings
from pipeline.store.derived import DERIVED_TABLES, SOURCES

INGESTION = ["balance_lines", "balance_snapshots", "clients", "fetch_attempts", "raw_responses"]
VIEWS = [
    "account_status_history",
    "balance_changes",
    "balance_intervals",
    "balance_line_pairs",
    "coverage",
    "daily_balances",
    "fetch_health",
    "fx_rate_outliers",
    "house_totals",
    "implied_fx_rates",
    "latest_balances",
    "locked_episodes",
    "locked_funds",
    "observed_snapshots",
    "slot_completeness",
    "snapshot_reconciliation",
    "value_attribution",
]
SLOT_CHECKS = [
    "balance_lines:balance_lines_cash_not_above_balance",
    "balance_lines:balance_lines_have_unique_keys",
    "balance_lines:balance_lines_implied_rates_agree",
    "balance_snapshots:balance_snapshots_have_unique_keys",
    "balance_snapshots:balance_snapshots_reconcile_to_lines",
    "fetch_attempts:fetch_attempts_have_unique_keys",
    "raw_responses:raw_responses_have_unique_ids",
]
BOOK_CHECKS = [
    "balance_lines:balance_lines_all_slots_pass",
    "balance_snapshots:balance_snapshots_all_slots_pass",
    "balance_snapshots:balance_snapshots_are_fresh",
    "fetch_attempts:fetch_attempts_all_slots_pass",
    "fetch_attempts:fetch_attempts_slots_complete",
    "raw_responses:raw_responses_all_slots_pass",
]


@pytest.fixture(scope="module")
def repo() -> dg.RepositoryDefinition:
    return build_definitions(Settings()).get_repository_def()


def _keys(repo: dg.RepositoryDefinition, job: str) -> list[str]:
    selected = repo.get_job(job).asset_layer.selected_asset_keys
    return sorted(k.to_user_string() for k in selected)


def _checks(repo: dg.RepositoryDefinition, job: str) -> list[str]:
    selected = repo.get_job(job).asset_layer.asset_graph.asset_check_keys
    return sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in selected)


def test_definitions_expose_the_expected_graph(repo: dg.RepositoryDefinition) -> None:
    graph = repo.asset_graph
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == sorted(
        [*INGESTION, *VIEWS, "report"]
    )
    assert sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys) == (
        sorted([*SLOT_CHECKS, *BOOK_CHECKS])
    )
    jobs = sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__"))
    assert jobs == ["book_checks_job", "maintenance_job", "poll_job", "replay_job"]
    assert sorted(s.name for s in repo.schedule_defs) == [
        "book_checks_schedule",
        "maintenance_schedule",
        "poll_schedule",
    ]
    assert sorted(s.name for s in repo.sensor_defs) == ["analytics_automation_sensor"]


def test_the_poll_runs_ingestion_and_slot_checks_and_the_book_checks_run_apart(
    repo: dg.RepositoryDefinition,
) -> None:
    assert _keys(repo, "poll_job") == INGESTION
    assert _checks(repo, "poll_job") == SLOT_CHECKS
    assert _keys(repo, "book_checks_job") == []
    assert _checks(repo, "book_checks_job") == BOOK_CHECKS
    book = repo.get_schedule_def("book_checks_schedule")
    assert (book.cron_schedule, book.job_name) == ("15 0 * * *", "book_checks_job")
    assert repo.get_sensor_def("analytics_automation_sensor").default_status == (
        dg.DefaultSensorStatus.RUNNING
    )


def test_slot_checks_are_partitioned_like_the_slots_and_book_checks_are_not(
    repo: dg.RepositoryDefinition,
) -> None:
    graph = repo.asset_graph
    slots = graph.get(dg.AssetKey("balance_lines")).partitions_def
    for check in graph.asset_check_keys:
        spec = graph.get_check_spec(check)
        label = f"{check.asset_key.to_user_string()}:{check.name}"
        assert spec.partitions_def == (slots if label in SLOT_CHECKS else None), label


def test_every_ingested_table_is_partitioned_by_poll_slot_and_backfills_in_one_run(
    repo: dg.RepositoryDefinition,
) -> None:
    for name in INGESTION:
        node = repo.asset_graph.get(dg.AssetKey(name))
        assert node.partitions_def is not None, name
        assert node.backfill_policy is not None, name
        assert node.backfill_policy.max_partitions_per_run is None, name  # single run


def test_the_analytics_layer_sits_downstream_of_the_tables(
    repo: dg.RepositoryDefinition,
) -> None:
    graph = repo.asset_graph

    def parents(name: str) -> set[str]:
        return {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}

    # Views that read derived facts hang under the tables those are computed from.
    assert set(SOURCES) == set(DERIVED_TABLES)
    assert parents("implied_fx_rates") == {"balance_lines"}
    assert parents("fx_rate_outliers") == {"balance_lines"}
    assert parents("balance_changes") == {"balance_lines"}
    assert parents("account_status_history") == {"balance_snapshots", "observed_snapshots"}
    assert parents("fetch_health") == {"fetch_attempts"}
    assert parents("report") == set(VIEWS)
    for name in [*VIEWS, "report"]:
        node = graph.get(dg.AssetKey(name))
        assert node.group_name == "analytics", name
        assert node.partitions_def is None, name
        assert node.automation_condition is not None, name


def test_assets_carry_kinds_descriptions_and_column_schemas(
    repo: dg.RepositoryDefinition,
) -> None:
    graph = repo.asset_graph
    kinds = {
        name: graph.get(dg.AssetKey(name)).kinds for name in ["balance_lines", "coverage", "report"]
    }
    assert kinds == {
        "balance_lines": {"polars", "duckdb"},
        "coverage": {"duckdb", "sql"},
        "report": {"jupyter", "html"},
    }
    for name in [*INGESTION, *VIEWS, "report"]:
        assert graph.get(dg.AssetKey(name)).description, name
    lines = graph.get(dg.AssetKey("balance_lines")).metadata["dagster/column_schema"]
    types = {c.name: c.type for c in lines.columns}
    assert types["balance"] == "DECIMAL(38,8)" and types["value_base"] == "DECIMAL(38,2)"
    assert types["implied_rate"] == "DOUBLE"
    rates = graph.get(dg.AssetKey("implied_fx_rates")).metadata["dagster/column_schema"]
    assert [c.name for c in rates.columns][:3] == ["slot_start", "currency", "base_currency"]
    raw = graph.get(dg.AssetKey("raw_responses")).metadata["dagster/column_schema"]
    notes = {c.name: c.description for c in raw.columns}
    assert notes["body_size"] == "bytes received, before any cap"
