"""Assemble the Definitions from settings, so tests can build them for a temporary database."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.defs.assets import build_assets
from pipeline.defs.checks import build_checks
from pipeline.defs.partitions import poll_partitions
from pipeline.defs.replay import replay_job
from pipeline.defs.resources import HyperResource
from pipeline.settings import Settings

POLL_JOB = "poll_job"


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = poll_partitions(settings.poll_cron)
    assets = build_assets(partitions)
    poll_job = dg.define_asset_job(POLL_JOB, selection=assets)
    poll_schedule = dg.build_schedule_from_partitioned_job(poll_job, name="poll_schedule")
    return dg.Definitions(
        assets=assets,
        asset_checks=build_checks(partitions),
        jobs=[poll_job, replay_job],
        schedules=[poll_schedule],
        resources={
            "hyper": HyperResource.from_settings(settings),
            "duckdb": DuckDBResource(database=str(settings.db_path)),
        },
        # One process: DuckDB allows a single writing process per file, and steps are short.
        executor=dg.in_process_executor,
    )
