"""Assemble the Definitions from settings, so tests and the CLI can build them for any database."""

from __future__ import annotations

import dagster as dg

from pipeline.defs.analytics import analytics_sensor, build_analytics_assets
from pipeline.defs.assets import build_assets
from pipeline.defs.checks import (
    BOOK_CHECKS_CRON,
    BOOK_CHECKS_JOB,
    build_book_checks,
    build_slot_checks,
)
from pipeline.defs.maintenance import maintenance_job, maintenance_schedule
from pipeline.defs.partitions import partitions_for, with_start
from pipeline.defs.replay import replay_job
from pipeline.defs.resources import (
    HyperResource,
    ProgressCallback,
    StoreResource,
    no_progress,
)
from pipeline.defs.schedules import poll_schedule
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
        settings: the validated configuration; partitions start at `pipeline_start` (the
            current UTC day when None: `with_start` decides it from the database first).
        source: an already open source (the CLI's); by default each run opens its own.
        progress: told (done, total, detail) after each polled slot.
        bind_env: bind configuration through `dg.EnvVar` (the code location does).
    """
    partitions = partitions_for(settings)
    ingestion = build_assets(partitions)
    slot_checks = build_slot_checks(partitions)
    book_checks = build_book_checks(partitions)
    analytics = build_analytics_assets()
    # The poll runs the ingestion assets and the checks that guard their slots; the book
    # checks and the analytics have their own schedule and sensor, off the hourly path.
    poll_job = dg.define_asset_job(
        POLL_JOB,
        selection=dg.AssetSelection.assets(*ingestion).without_checks()
        | dg.AssetSelection.checks(*slot_checks),
        description="Poll every client for the slot(s), normalize, and check each slot.",
    )
    book_job = dg.define_asset_job(
        BOOK_CHECKS_JOB,
        selection=dg.AssetSelection.checks(*book_checks),
        description="Whole-book checks: freshness, and every slot against the slot checks.",
    )
    return dg.Definitions(
        assets=[*ingestion, *analytics],
        asset_checks=[*slot_checks, *book_checks],
        jobs=[poll_job, book_job, replay_job, maintenance_job],
        schedules=[
            poll_schedule(poll_job, partitions, settings.poll_cron, settings.shards),
            dg.ScheduleDefinition(
                name="book_checks_schedule",
                job=book_job,
                cron_schedule=BOOK_CHECKS_CRON,
                execution_timezone="UTC",
            ),
            maintenance_schedule,
        ],
        sensors=[analytics_sensor(analytics)],
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
    """The code location's graph, configured from the environment (and a local `.env`).

    Partitions start at PIPELINE_START, else at the database's first slot (one read-only
    query when the definitions load), else at the start of the current UTC day.
    """
    from pipeline.settings import load_dotenv_file

    load_dotenv_file()
    return build_definitions(with_start(Settings.from_env()), bind_env=True)
