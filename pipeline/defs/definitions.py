"""Assemble the Definitions from settings, so tests and the CLI can build them for any database."""

from __future__ import annotations

import dagster as dg

from pipeline.defs.assets import build_assets
from pipeline.defs.checks import build_checks
from pipeline.defs.partitions import poll_partitions
from pipeline.defs.replay import replay_job
from pipeline.defs.resources import (
    HyperResource,
    ProgressCallback,
    StoreResource,
    no_progress,
)
from pipeline.rounds.source import SourceProvider
from pipeline.settings import Settings

POLL_JOB = "poll_job"


def build_definitions(
    settings: Settings,
    *,
    source: SourceProvider | None = None,
    progress: ProgressCallback = no_progress,
    bind_env: bool = False,
) -> dg.Definitions:
    """The graph for `settings`.

    Args:
        settings: the validated configuration.
        source: an already open source (the CLI's); by default each run opens its own.
        progress: told (done, total, detail) after each polled slot.
        bind_env: bind configuration through `dg.EnvVar` (the code location does).
    """
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
            "hyper": source or HyperResource.from_settings(settings, bind_env=bind_env),
            "store": StoreResource.from_settings(settings),
            "progress": dg.ResourceDefinition.hardcoded_resource(progress),
        },
        # One process: DuckDB allows a single writing process per file, and steps are short.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location's graph, configured from the environment (and a local `.env`)."""
    from pipeline.settings import load_dotenv_file

    load_dotenv_file()
    return build_definitions(Settings.from_env(), bind_env=True)
