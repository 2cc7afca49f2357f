"""The maintenance job's steps: compact each closed period, then tidy a lake's files.

Each period is its own short write session, so readers and rounds get the store between
them; a lake's file maintenance runs last, in one more session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.store import Database
from pipeline.store.maintenance import Period, compact_period, due_periods, tidy_lake

# Snapshots (time travel) a lake keeps, and how long freed files wait before deletion.
LAKE_KEEP_DAYS = 7


@dataclass
class MaintenanceSummary:
    compacted: list[Period] = field(default_factory=list)
    lake_tidied: bool = False
    seconds: float = 0.0


def maintain(
    db: Database,
    *,
    lake_keep_days: int = LAKE_KEEP_DAYS,
    on_period: Callable[[Period], None] | None = None,
) -> MaintenanceSummary:
    """Compact every closed period not compacted yet (oldest first), then tidy a lake.

    Idempotent: a period is compacted once; running again with nothing due changes nothing.
    """
    started = time.perf_counter()
    summary = MaintenanceSummary()
    with db.writer() as store:
        periods = due_periods(store)
    for period in periods:
        with db.writer() as store:
            compact_period(store, period, lake=db.is_lake)
        summary.compacted.append(period)
        if on_period is not None:
            on_period(period)
    if db.is_lake:
        with db.writer() as store:
            tidy_lake(store, keep_days=lake_keep_days)
        summary.lake_tidied = True
    summary.seconds = time.perf_counter() - started
    return summary
