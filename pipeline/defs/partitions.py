"""Poll slots as Dagster time-window partitions of PIPELINE_POLL_CRON, from PIPELINE_START.

Where the partitions start decides what the UI calls missing, so it is stable and close to the
data: PIPELINE_START when set; otherwise the first slot the database holds (read once, when the
definitions load: one read-only query, skipped when there is no database); otherwise, for a
database without any slot, the start of the current UTC day. A start between two slot
boundaries begins at the next boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from pipeline.settings import Settings
from pipeline.store import DatabaseMissing, connect
from pipeline.store.sqlfiles import load_sql

PARTITION_FMT = "%Y-%m-%d-%H:%M"


def poll_partitions(cron: str, start: datetime | None = None) -> dg.TimeWindowPartitionsDefinition:
    """Slots of `cron` from `start` (default: the start of the current UTC day)."""
    # end_offset=1 makes the window in progress a partition: a poll lands in the slot it
    # happens in, and the schedule's tick at 14:00 polls the 14:00 slot, not 13:00.
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule=cron,
        start=(start or start_of_day()).astimezone(UTC),
        fmt=PARTITION_FMT,
        timezone="UTC",
        end_offset=1,
    )


def partitions_for(settings: Settings) -> dg.TimeWindowPartitionsDefinition:
    """The partitions of `settings`, from its start (the current UTC day's when unset).

    Pure: reads no database. Entry points that should start at the data call `with_start`
    first.
    """
    return poll_partitions(settings.poll_cron, settings.pipeline_start)


def start_of_day(now: datetime | None = None) -> datetime:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def first_slot(settings: Settings) -> datetime | None:
    """The earliest slot the database holds (polled or imported), None without a database.

    Raises:
        DatabaseBusy: a writer held the file for the whole read wait.
        SchemaTooNew: the file was written by a newer release.
    """
    try:
        con = connect(settings.db_path, read_only=True, wait_seconds=settings.read_wait_seconds)
    except DatabaseMissing:
        return None
    try:
        ((found,),) = con.execute(load_sql("store/first_slot")).fetchall()
    except duckdb.CatalogException:  # a DuckDB file without our tables
        return None
    finally:
        con.close()
    return found if isinstance(found, datetime) else None


def with_start(settings: Settings) -> Settings:
    """`settings` with `pipeline_start` decided (see the module docstring)."""
    if settings.pipeline_start is not None:
        return settings
    return replace(settings, pipeline_start=first_slot(settings) or start_of_day())


def covering(settings: Settings, start: datetime) -> Settings:
    """`settings` with partitions that begin no later than `start` (a backfill's first slot)."""
    current = settings.pipeline_start
    if current is not None and current <= start:
        return settings
    return replace(settings, pipeline_start=start)


def keyed_slots(
    partitions: dg.TimeWindowPartitionsDefinition, keys: Sequence[str]
) -> tuple[list[str], list[tuple[datetime, datetime]]]:
    """The keys in time order, and the (start, end) of each, in the same order."""
    windows = sorted(
        ((partitions.time_window_for_partition_key(key), key) for key in keys),
        key=lambda pair: pair[0].start,
    )
    return [key for _, key in windows], [(w.start, w.end) for w, _ in windows]


def slot_length(partitions: dg.TimeWindowPartitionsDefinition) -> timedelta:
    """The length of one poll slot (the first partition's window)."""
    first = partitions.get_first_partition_key()
    assert first is not None
    window = partitions.time_window_for_partition_key(first)
    return window.end - window.start
