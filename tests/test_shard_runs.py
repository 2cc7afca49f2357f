"""The shard as a Dagster run dimension: PIPELINE_SHARDS makes the schedule emit one run per
shard per tick, tagged and configured; each run polls its shard's clients over its egress."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.defs.definitions import POLL_JOB, build_definitions
from pipeline.defs.schedules import shard_run_config
from pipeline.rounds.shards import hash_part
from pipeline.settings import ConfigurationError, Settings, ShardPlan, parse_shard_plans
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig, demo_credentials

START = datetime(2026, 11, 1, tzinfo=UTC)


def test_shard_plans_are_read_and_checked_once_in_settings() -> None:
    settings = Settings.from_env(
        {"PIPELINE_SHARDS": "1/3@203.0.113.10, 2/3@http://proxy-b:3128 ,3/3"}
    )
    assert settings.shards == (
        ShardPlan("1/3", source_address="203.0.113.10"),
        ShardPlan("2/3", proxy_url="http://proxy-b:3128"),
        ShardPlan("3/3"),
    )
    assert [p.egress for p in settings.shards] == ["203.0.113.10", "http://proxy-b:3128", "default"]
    assert parse_shard_plans("eu@10.0.0.5, us") == (ShardPlan("eu", "10.0.0.5"), ShardPlan("us"))
    assert Settings.from_env({}).shards == ()
    bad = {
        "1/4,2/4,4/4": "each once",
        "1/2,1/2,2/2": "listed twice",
        "1/2,2/2,eu": "not both",
        "3/2": "1 <= K <= N",
        "1/1@not-an-ip": "is not an IP address",
        "1/1@ftp://proxy": "http:// or https://",
        "1/1@http://user:secret@proxy:3128": "must not carry credentials",
    }
    for text, message in bad.items():
        with pytest.raises(ConfigurationError, match=message) as caught:
            Settings.from_env({"PIPELINE_SHARDS": text})
        assert "secret" not in str(caught.value)


def test_the_schedule_emits_one_tagged_configured_run_per_shard_per_tick() -> None:
    shards = parse_shard_plans("1/2@192.0.2.10, 2/2@192.0.2.11")
    defs = build_definitions(Settings(pipeline_start=START, shards=shards))
    schedule = defs.resolve_schedule_def("poll_schedule")
    tick = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    ) as context:
        requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == ["2026-11-25-14:00"] * 2
    assert [{k: r.tags[k] for k in ("shard", "egress")} for r in requests] == [
        {"shard": "1/2", "egress": "192.0.2.10"},
        {"shard": "2/2", "egress": "192.0.2.11"},
    ]
    assert len({r.run_key for r in requests}) == 2
    assert requests[1].run_config == shard_run_config(shards[1])
    # The config the schedule emits is valid for the poll job.
    job = defs.resolve_job_def(POLL_JOB)
    for request in requests:
        assert dg.validate_run_config(job, request.run_config)


@pytest.mark.slow
def test_each_shard_run_polls_its_clients_over_its_egress_and_together_every_client_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sharded.duckdb"
    # The first shard leaves from 127.0.0.1 explicitly (the simulator is on loopback).
    shards = parse_shard_plans("1/2@127.0.0.1, 2/2")
    settings = Settings(db_path=db, pipeline_start=START, shards=shards)
    job = build_definitions(settings).resolve_job_def(POLL_JOB)
    slot = SEED_EXAMPLE_INSTANT.strftime("%Y-%m-%d-%H:%M")
    run_ids = {}
    with dg.DagsterInstance.ephemeral() as instance:
        for plan in shards:
            result = job.execute_in_process(
                run_config=shard_run_config(plan),
                partition_key=slot,
                instance=instance,
                tags={"shard": plan.spec, "egress": plan.egress},
            )
            assert result.success
            run_ids[plan.spec] = result.run_id
        # A re-run of a shard in the same slot asks nobody and adds nothing.
        again = job.execute_in_process(
            run_config=shard_run_config(shards[0]), partition_key=slot, instance=instance
        )
        assert again.success

    clients = {c.client_number for c in demo_credentials(SimulatorConfig())}
    con = duckdb.connect(str(db), read_only=True)
    try:
        polled = dict(
            con.execute(
                "select run_id, list(distinct client_number) from fetch_attempts group by run_id"
            ).fetchall()
        )
        snapshots = con.execute(
            "select client_number, count(*) from balance_snapshots group by all"
        ).fetchall()
    finally:
        con.close()
    for spec, run_id in run_ids.items():
        part = int(spec.split("/")[0])
        assert set(polled[run_id]) == {c for c in clients if hash_part(c, 2) == part}
    assert set(polled) == set(run_ids.values())  # the re-run polled no one
    assert sorted(snapshots) == sorted((c, 1) for c in clients)


def test_a_bad_shard_config_fails_the_run_in_one_line(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "x.duckdb", pipeline_start=START)
    job = build_definitions(settings).resolve_job_def(POLL_JOB)
    config = shard_run_config(replace(ShardPlan("1/2"), spec="1/2"))
    config["ops"]["fetch_round"]["config"]["source_address"] = "not-an-ip"  # type: ignore[index]
    result = job.execute_in_process(
        run_config=config,
        partition_key=SEED_EXAMPLE_INSTANT.strftime("%Y-%m-%d-%H:%M"),
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "not an IP address" in str(failure.event_specific_data)
