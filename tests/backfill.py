"""Backfill history from the simulator without Dagster: the core of the demo, for tests/benches."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pipeline.rounds.ingest import IngestSummary, ingest_range
from pipeline.rounds.poll import PollSummary, poll_slots
from pipeline.rounds.source import open_source
from pipeline.settings import Settings
from pipeline.store import open_store


def hourly_slots(start: datetime, hours: int) -> list[datetime]:
    return [start + timedelta(hours=i) for i in range(hours)]


def backfill_from_simulator(
    db_path: Path,
    slots: list[datetime],
    *,
    settings: Settings | None = None,
    run_id: str = "backfill",
) -> tuple[PollSummary, IngestSummary]:
    """Poll the embedded simulator "as of" each slot and ingest the answers into `db_path`."""
    settings = settings or Settings()
    if not settings.uses_simulator:
        raise ValueError("backfill_from_simulator needs the embedded simulator (no base_url)")
    with open_source(settings) as source, open_store(db_path) as store:
        polled = poll_slots(
            source.client,
            source.credentials,
            store,
            slots=slots,
            run_id=run_id,
            as_of_for=lambda slot: slot,
            max_workers=settings.max_workers,
        )
        ingested = ingest_range(store, min(slots), max(slots) + timedelta(seconds=1))
    return polled, ingested
