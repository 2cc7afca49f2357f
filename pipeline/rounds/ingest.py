"""Turn landed raw bodies into snapshots and lines: normalize with polars, append atomically.

Streamed: the range is cut into batches of whole slots. One short write session per batch reads
the next batch's bodies and appends this batch's rows; normalization runs outside any session,
in a thread, while the append works. Memory stays bounded by two batches, and readers find the
file free between sessions.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import polars as pl

from pipeline.normalize import normalize_raw
from pipeline.store import Database, Store
from pipeline.store.history import Selection, raw_slot_counts, slot_batches

# Raw bodies per batch. Each batch's append session ends with a checkpoint whose cost is
# largely per table touched, so fewer, larger batches are cheaper: 1M stored responses (1.02M
# lines) took 80.9 s at 20,000 and 44.5 s at 60,000 on a busy machine; 30.3 s and 797 MB peak
# RSS on an idle one, and 22 s and 890 MB with normalization overlapping the appends
# (bench/ingest.py; the writer's memory cap is in store/database.py). An
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
    re-running adds nothing. Each append session first reads the next batch's bodies, which
    are then normalized in a thread while this batch appends: polars and DuckDB each leave
    part of the two cores idle, and the next batch's slots are not touched by this append.
    """
    selection = Selection(slot_from, slot_to)
    with db.writer() as store:
        counts = raw_slot_counts(store, selection)
    batches = _covering(list(slot_batches(counts, selection, batch_rows)), slot_from, slot_to)
    total = IngestSummary(0, 0, 0, 0)
    with db.writer() as store:
        first = _pending(store, batches[0])
    with ThreadPoolExecutor(1, thread_name_prefix="normalize") as pool:
        # Only the thread holds a batch's bodies, and only until they are normalized.
        normalizing = pool.submit(normalize_raw, first)
        del first
        for index, batch in enumerate(batches):
            normalized = normalizing.result()
            with db.writer() as store:
                if index + 1 < len(batches):
                    normalizing = pool.submit(normalize_raw, _pending(store, batches[index + 1]))
                # Also when nothing was pending: the derived facts of the range (coverage,
                # fetch health) follow its attempts (only those are refreshed then).
                snapshots, lines = store.append_snapshots(normalized, *_bounds(batch))
            total += IngestSummary(normalized.bodies, snapshots, lines, normalized.rejected.height)
    return total


def _bounds(batch: Selection) -> tuple[datetime, datetime]:
    assert batch.slot_from is not None and batch.slot_to is not None
    return batch.slot_from, batch.slot_to


def _pending(store: Store, batch: Selection) -> pl.DataFrame:
    return store.pending_raw(*_bounds(batch))


def _covering(batches: list[Selection], slot_from: datetime, slot_to: datetime) -> list[Selection]:
    """The batches (consecutive, in slot order) stretched to cover [slot_from, slot_to): slots
    with attempts but no bodies (every client failed) are refreshed too."""
    ends = [batch.slot_to for batch in batches[:-1] if batch.slot_to is not None]
    bounds = [slot_from, *ends, slot_to]
    return [Selection(lo, hi) for lo, hi in pairwise(bounds)]
