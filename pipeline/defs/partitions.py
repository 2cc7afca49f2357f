"""Poll slots as Dagster time-window partitions of PIPELINE_POLL_CRON."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

PARTITIONS_START = "2026-01-01-00:00"
PARTITION_FMT = "%Y-%m-%d-%H:%M"


def poll_partitions(cron: str) -> dg.TimeWindowPartitionsDefinition:
    # end_offset=1 makes the window in progress a partition: a poll lands in the slot it
    # happens in, and the schedule's tick at 14:00 polls the 14:00 slot, not 13:00.
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule=cron,
        start=PARTITIONS_START,
        fmt=PARTITION_FMT,
        timezone="UTC",
        end_offset=1,
    )


def slot_starts(
    partitions: dg.TimeWindowPartitionsDefinition, keys: list[str]
) -> list[tuple[datetime, datetime]]:
    """(start, end) of each partition key, in key order."""
    windows = [partitions.time_window_for_partition_key(key) for key in keys]
    return sorted((w.start, w.end) for w in windows)
