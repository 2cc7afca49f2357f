"""Turn landed raw bodies into snapshots and lines: normalize with polars, append atomically.

Streamed: the range is cut into batches of whole slots, and each batch is read in one short
session, normalized outside any session, and appended in another. Memory stays bounded by the
batch, and readers find the file free between sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from pipeline.normalize import normalize_raw
from pipeline.store import Database
from pipeline.store.history import Selection, raw_slot_counts, slot_batches

# Raw bodies per batch. Each batch's append session ends with a checkpoint whose cost is
# largely per table touched, so fewer, larger batches are cheaper: 1M stored responses (1.02M
# lines) took 80.9 s at 20,000 and 44.5 s at 60,000 on a busy machine; 30.3 s and 797 MB peak
# RSS on an idle one (bench/ingest.py; the writer's memory cap is in store/database.py). An
# append session then holds the file for seconds, well inside a reader's wait
# (PIPELINE_READ_WAIT_SECONDS, 30 s by default).
INGEST_BATCH_ROWS = 60_000


@dataclass(frozen=True)
class IngestSummary:
    raw_considered: int
    snapshots: int
    lines: int
    rejected: int

    def __add__(self, other: IngestSummary) -> IngestSummary:
        return IngestSummary(
            self.raw_considered + other.raw_considered,
            self.snapshots + other.snapshots,
            self.lines + other.lines,
            self.rejected + other.rejected,
        )


def ingest_range(
    db: Database, slot_from: datetime, slot_to: datetime, *, batch_rows: int = INGEST_BATCH_ROWS
) -> IngestSummary:
    """Normalize every pending body in [slot_from, slot_to) and append the results.

    Bodies that already produced a snapshot for their (client, slot) are not read again, so
    re-running adds nothing.
    """
    selection = Selection(slot_from, slot_to)
    with db.writer() as store:
        counts = raw_slot_counts(store, selection)
    total = IngestSummary(0, 0, 0, 0)
    for batch in _covering(list(slot_batches(counts, selection, batch_rows)), slot_from, slot_to):
        assert batch.slot_from is not None and batch.slot_to is not None
        with db.writer() as store:
            raw = store.pending_raw(batch.slot_from, batch.slot_to)
        normalized = normalize_raw(raw)
        with db.writer() as store:
            # Also when nothing was pending: the derived facts of the range (coverage, fetch
            # health) follow its attempts, and a refresh that changes nothing is harmless.
            snapshots, lines = store.append_snapshots(normalized, batch.slot_from, batch.slot_to)
        total += IngestSummary(raw.height, snapshots, lines, normalized.rejected.height)
    return total


def _covering(batches: list[Selection], slot_from: datetime, slot_to: datetime) -> list[Selection]:
    """The batches (consecutive, in slot order) stretched to cover [slot_from, slot_to): slots
    with attempts but no bodies (every client failed) are refreshed too."""
    ends = [batch.slot_to for batch in batches[:-1] if batch.slot_to is not None]
    bounds = [slot_from, *ends, slot_to]
    return [Selection(lo, hi) for lo, hi in pairwise(bounds)]
