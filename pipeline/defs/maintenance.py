"""`maintenance_job`: compact closed periods and tidy a lake, daily, off the hourly path.

No `from __future__ import annotations` here: Dagster resolves the config class from the op's
annotations at definition time.
"""

import dagster as dg

from pipeline.defs.resources import StoreResource
from pipeline.rounds.maintain import LAKE_KEEP_DAYS, maintain
from pipeline.store.maintenance import Period

MAINTENANCE_JOB = "maintenance_job"
# Daily at 00:40 UTC: yesterday has closed, and the hourly round of 00:00 is usually done.
MAINTENANCE_CRON = "40 0 * * *"


class MaintenanceConfig(dg.Config):
    """A lake's time travel and freed-file grace, in days."""

    lake_keep_days: int = LAKE_KEEP_DAYS


@dg.op
def maintain_store(
    context: dg.OpExecutionContext, config: MaintenanceConfig, store: StoreResource
) -> dg.Output[dict]:  # type: ignore[type-arg]  # Dagster type-checks this at run time
    """Rewrite closed periods clustered by client; on a lake, merge, expire and clean files."""
    if config.lake_keep_days < 0:
        raise dg.Failure(f"lake_keep_days={config.lake_keep_days} must be 0 or more")

    def on_period(period: Period) -> None:
        start, end = period
        context.log.info(f"compacted {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M}")

    summary = maintain(store.db(), lake_keep_days=config.lake_keep_days, on_period=on_period)
    metadata = {
        "periods_compacted": len(summary.compacted),
        "lake_tidied": summary.lake_tidied,
        "seconds": round(summary.seconds, 3),
    }
    return dg.Output(metadata, metadata=metadata)


@dg.job(
    name=MAINTENANCE_JOB,
    description="Compact closed periods by client (fast one-client reads); tidy a lake's files.",
    # On a lake a rewrite beside a replay's would not commit: one maintenance or replay at once.
    tags={"pipeline/exclusive": "history"},
)
def maintenance_job() -> None:
    maintain_store()


maintenance_schedule = dg.ScheduleDefinition(
    name="maintenance_schedule",
    job=maintenance_job,
    cron_schedule=MAINTENANCE_CRON,
    execution_timezone="UTC",
)
