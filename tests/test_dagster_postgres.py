"""The documented docs/dagster.yaml on a real PostgreSQL: a run's record lands there, and the
instance queues runs with one run per egress."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from pg import Postgres

ROOT = Path(__file__).resolve().parent.parent


@dg.op
def touch() -> int:
    return 1


@dg.job
def trivial_job() -> None:
    touch()


@pytest.mark.slow
def test_a_run_with_the_documented_dagster_yaml_lands_in_postgresql(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Postgres(postgres.create_database("dagster"))
    params = server.parameters()
    monkeypatch.setenv("DAGSTER_PG_HOST", params["host"])
    monkeypatch.setenv("DAGSTER_PG_PORT", params["port"])
    monkeypatch.setenv("DAGSTER_PG_USER", params["user"])
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "unused-with-trust-auth")
    monkeypatch.setenv("DAGSTER_PG_DB", params["dbname"])
    shutil.copy(ROOT / "docs" / "dagster.yaml", tmp_path / "dagster.yaml")

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.tag_concurrency_limits == [
            {"key": "egress", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
            {"key": "pipeline/exclusive", "limit": 1},
        ]
        result = trivial_job.execute_in_process(
            instance=instance, tags={"egress": "192.0.2.10", "shard": "1/4"}
        )
    assert result.success

    dbname = params["dbname"]
    assert server.query(dbname, "select run_id, status from runs") == [(result.run_id, "SUCCESS")]
    tags = server.query(
        dbname, "select key, value from run_tags where run_id = %s", (result.run_id,)
    )
    assert {("egress", "192.0.2.10"), ("shard", "1/4")} <= set(tags)
    ((events,),) = server.query(
        dbname, "select count(*) from event_logs where run_id = %s", (result.run_id,)
    )
    assert events > 0
    # Nothing fell back to SQLite files in the instance folder.
    assert not list(tmp_path.rglob("*.db"))
