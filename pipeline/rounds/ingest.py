"""Turn landed raw bodies into snapshots and lines: normalize with polars, append atomically."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.normalize import normalize_raw
from pipeline.store import Store


@dataclass(frozen=True)
class IngestSummary:
    raw_considered: int
    snapshots: int
    lines: int
    rejected: int


def ingest_range(store: Store, slot_from: datetime, slot_to: datetime) -> IngestSummary:
    """Normalize every pending body in [slot_from, slot_to) and append the results.

    Bodies that already produced a snapshot for their (client, slot) are not read again, so
    re-running adds nothing.
    """
    raw = store.pending_raw(slot_from, slot_to)
    if raw.is_empty():
        return IngestSummary(0, 0, 0, 0)
    batch = normalize_raw(raw)
    snapshots, lines = store.append_snapshots(batch)
    return IngestSummary(raw.height, snapshots, lines, batch.rejected.height)
