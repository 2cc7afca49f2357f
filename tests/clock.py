"""Tests that run `pipeline run` twice and expect the second to find its slot complete."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

# Such tests poll daily slots (PIPELINE_POLL_CRON): the slot in progress then turns only at
# midnight UTC. With hourly slots they waited in the last minutes of every hour: a suite started
# at 05:56 slept 200 s in the four-shards test and 30 s in another. The slot's length is not
# what they test.
DAILY_CRON = "0 0 * * *"


def within_one_slot(needed_seconds: float) -> None:
    """Wait for the next UTC day when fewer than `needed_seconds` are left in this one.

    `pipeline run` polls the slot in progress (a day, with DAILY_CRON): a test whose second run
    must add nothing would fail if the slot turned between its runs (a new slot, polled
    afresh), not because of a bug. Waiting costs at most `needed_seconds`, near midnight only.
    """
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    left = (midnight - now).total_seconds()
    if left < needed_seconds:
        time.sleep(left + 1)
