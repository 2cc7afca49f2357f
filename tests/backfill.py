"""Backfill history from the simulator without Dagster: the core of the demo, for tests/benches."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pipeline.rounds.ingest import IngestSummary, ingest_range
from pipeline.rounds.landing import Lander
from pipeline.rounds.poll import PollSummary, poll_slots
from pipeline.rounds.source import open_source
from pipeline.settings import Settings
from pipeline.store import Database


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
    db = Database(db_path)
    with open_source(settings) as source:
        labels = {c.client_number: c.label for c in source.credentials}
        polled = poll_slots(
            source.client,
            source.credentials,
            Lander(db, run_id, labels),
            slots=slots,
            as_of_for=lambda slot: slot,
            max_workers=settings.max_workers,
        )
    ingested = ingest_range(db, min(slots), max(slots) + timedelta(seconds=1))
    return polled, ingested
