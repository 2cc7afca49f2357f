"""Run the poll job in-process for given slots (used by the CLI and the tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipeline.defs.definitions import POLL_JOB, build_definitions
from pipeline.defs.instance import persistent_instance
from pipeline.defs.partitions import PARTITION_FMT, covering, partitions_for, poll_partitions
from pipeline.defs.resources import OpenedSource, ProgressCallback, no_progress
from pipeline.rounds.source import Source
from pipeline.settings import Settings
from pipeline.store import Database
from pipeline.store.lock import run_lock

# Dagster's console logger is chatty at DEBUG; the CLI shows its own summary and progress.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


# Beside the database when DAGSTER_HOME is unset: the runs of `pipeline run` and `pipeline demo`
# are kept with the data they wrote, and `DAGSTER_HOME=<that folder> dg dev` shows them.
INSTANCE_FOLDER = ".dagster"


def instance_home(settings: Settings) -> Path:
    """Where the CLI's runs are kept: DAGSTER_HOME, else `.dagster/` beside the database."""
    return settings.dagster_home or settings.local_folder / INSTANCE_FOLDER


@contextmanager
def dagster_instance(settings: Settings) -> Iterator[dg.DagsterInstance]:
    """The persistent instance of `instance_home` (its runs and partitions show in `dg dev`)."""
    with persistent_instance(instance_home(settings)) as instance:
        yield instance


def current_slot_key(settings: Settings) -> str:
    key = partitions_for(settings).get_last_partition_key()
    assert key is not None
    return key


def slot_keys_between(settings: Settings, start: datetime, end: datetime) -> list[str]:
    """Partition keys of the slots that start in [start, end) and have begun."""
    if start >= datetime.now(UTC):
        return []
    partitions = poll_partitions(settings.poll_cron, start)
    return [
        key
        for key in partitions.get_partition_keys()
        if partitions.time_window_for_partition_key(key).start < end
    ]


def run_poll_job(
    settings: Settings,
    keys: list[str],
    *,
    instance: dg.DagsterInstance,
    source: Source | None = None,
    progress: ProgressCallback = no_progress,
) -> dg.ExecuteInProcessResult:
    """Materialize the poll job for a contiguous range of slot keys in a single run.

    `source`, when given, is the caller's open source (so the clients file is read and the
    instance checked once per run); `progress` hears about every polled slot.

    The whole run holds the database's run lock: a concurrent `pipeline run` waits for it
    (PIPELINE_LOCK_TIMEOUT_SECONDS), then finds the slot's complete clients and skips them.

    Raises:
        RunLocked: another run held the lock for the whole timeout.
        SchemaTooNew: the database was written by a newer release.
    """
    # The in-process definitions start no later than the first key: a backfill before
    # PIPELINE_START (or before the database's first slot) still has its partitions.
    settings = covering(settings, datetime.strptime(min(keys), PARTITION_FMT).replace(tzinfo=UTC))
    with run_lock(settings.db_path, timeout_seconds=settings.lock_timeout_seconds):
        # Create or upgrade the schema before Dagster starts, so a database this release cannot
        # write (a newer schema) is one line from the CLI, not a failed run.
        with Database.from_settings(settings).writer():
            pass
        provider = OpenedSource(source, settings.max_workers) if source is not None else None
        defs = build_definitions(settings, source=provider, progress=progress)
        return _execute(defs.resolve_job_def(POLL_JOB), keys, instance=instance)


def _execute(
    job: dg.JobDefinition, keys: list[str], *, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    if len(keys) == 1:
        return job.execute_in_process(
            run_config=QUIET_RUN_CONFIG,
            partition_key=keys[0],
            instance=instance,
            raise_on_error=False,
        )
    return job.execute_in_process(
        run_config=QUIET_RUN_CONFIG,
        instance=instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
        },
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The first step failure's message, one line."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and "Failure" not in (error.cls_name or ""):
                error = error.cause
            if error.message:
                # "dagster._core.definitions.events.Failure: round failed: …" -> the reason.
                line = error.message.strip().splitlines()[-1]
                return re.sub(r"^[\w.]+(Failure|Error|Exception): ", "", line)
            return error.cls_name or "the run failed"
    return "the run failed"
