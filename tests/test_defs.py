"""Pin the Dagster graph: a change to assets, checks, jobs or schedules shows up in review."""

from __future__ import annotations

from pipeline.defs.definitions import build_definitions
from pipeline.settings import Settings


def test_definitions_expose_the_expected_graph() -> None:
    repo = build_definitions(Settings()).get_repository_def()
    graph = repo.asset_graph
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == [
        "balance_lines",
        "balance_snapshots",
        "clients",
        "fetch_attempts",
        "raw_responses",
    ]
    assert sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys) == [
        "balance_lines:balance_lines_cash_not_above_balance",
        "balance_lines:balance_lines_have_unique_keys",
        "balance_lines:balance_lines_implied_rates_agree",
        "balance_snapshots:balance_snapshots_are_fresh",
        "balance_snapshots:balance_snapshots_have_unique_keys",
        "balance_snapshots:balance_snapshots_reconcile_to_lines",
    ]
    jobs = sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__"))
    assert jobs == ["poll_job", "replay_job"]
    assert sorted(s.name for s in repo.schedule_defs) == ["poll_schedule"]
    assert list(repo.sensor_defs) == []


def test_every_asset_is_partitioned_by_poll_slot_and_backfills_in_one_run() -> None:
    repo = build_definitions(Settings()).get_repository_def()
    for key in repo.asset_graph.get_all_asset_keys():
        node = repo.asset_graph.get(key)
        assert node.partitions_def is not None, key
        assert node.backfill_policy is not None, key
        assert node.backfill_policy.max_partitions_per_run is None, key  # single run
