"""Tests that run `pipeline run` twice and expect the second to find its slot complete."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


def within_one_slot(needed_seconds: float) -> None:
    """Wait for the next UTC hour when fewer than `needed_seconds` are left in this one.

    `pipeline run` polls the hourly slot in progress: a test whose second run must add nothing
    would fail if the hour turned between its runs (a new slot, polled afresh), not because of
    a bug. Waiting costs at most `needed_seconds`, in that share of an hour's runs.
    """
    now = datetime.now(UTC)
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    left = (next_hour - now).total_seconds()
    if left < needed_seconds:
        time.sleep(left + 1)
