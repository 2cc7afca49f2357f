"""Rebuild balance_snapshots and balance_lines from raw_responses, changing only what differs.

A replay cuts the selection into batches of whole slots (in periods `pipeline maintain`
compacted: of the whole period for a range of clients), normalizes each batch's bodies with
the same `normalize_raw` as ingest (so the same body wins a (client, slot)), compares the result
with what is stored and, in one transaction per batch, deletes and re-inserts only the rows that
differ. Run twice, the second run changes nothing; after a normalization change it touches
exactly the affected rows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.normalize import NormalizedBatch, normalize_raw
from pipeline.store import Store
from pipeline.store.history import (
    Selection,
    apply_replay,
    refresh_period_slot_facts,
    replay_batches,
    replay_candidates,
)

# Raw answers (plus stored snapshots) per batch: bounds the bodies held in memory at once.
REPLAY_BATCH_ROWS = 20_000
_TABLES = ("balance_snapshots", "balance_lines")
_CHANGES = ("inserted", "updated", "deleted")


@dataclass
class ReplaySummary:
    batches: int = 0
    raw_read: int = 0
    rejected: int = 0  # bodies that hold no snapshot (errors, duplicates), as in ingest
    snapshots: int = 0  # snapshots the raw now produces
    lines: int = 0
    changes: dict[str, int] = field(
        default_factory=lambda: {f"{t}.{c}": 0 for t in _TABLES for c in _CHANGES}
    )
    seconds: float = 0.0

    def changed(self, table: str) -> int:
        return sum(self.changes[f"{table}.{c}"] for c in ("inserted", "updated"))

    @property
    def snapshots_unchanged(self) -> int:
        return self.snapshots - self.changed("balance_snapshots")

    @property
    def lines_unchanged(self) -> int:
        return self.lines - self.changed("balance_lines")


def replay(
    store: Store,
    selection: Selection | None = None,
    *,
    batch_rows: int = REPLAY_BATCH_ROWS,
    on_batch: Callable[[int, int, Selection], None] | None = None,
) -> ReplaySummary:
    """Rebuild the selection's snapshots and lines (and widen clients' seen range) from raw.

    Args:
        store: the database to rebuild in place.
        selection: slots [from, to) and client; everything by default.
        batch_rows: raw answers per batch (one transaction each).
        on_batch: called after each batch with (batch number, batch count, batch range).
    """
    selection = selection or Selection()
    started = datetime.now(UTC)
    summary = ReplaySummary()
    batches = replay_batches(store, selection, batch_rows)
    carried = period_refreshed = False
    # The next batch's bodies are read before this batch is applied (a replay writes only its
    # own batch's slots) and normalized in a thread meanwhile: polars and DuckDB each leave
    # part of the cores idle.
    pool = ThreadPoolExecutor(1, thread_name_prefix="normalize")
    with store.deferred_checkpoints(), pool:
        normalizing = None
        for number, batch in enumerate(batches, start=1):
            if normalizing is None:
                normalizing = pool.submit(normalize_raw, replay_candidates(store, batch))
            rebuilt = normalizing.result()
            if number < len(batches):
                normalizing = pool.submit(normalize_raw, replay_candidates(store, batches[number]))
            # The last slots' batches carry the state on: several in a compacted period, one
            # per client range.
            last = batch.slot_to == batches[-1].slot_to
            carried = _replay_batch(store, batch, rebuilt, last, carried, summary)
            period_refreshed |= carried  # this batch refreshed its derived facts
            period_ends = number == len(batches) or batches[number].slot_from != batch.slot_from
            if batch.clients is not None and period_ends:
                refresh_period_slot_facts(store, batch, changed=period_refreshed)
                period_refreshed = False
            if on_batch is not None:
                on_batch(number, len(batches), batch)
    summary.seconds = (datetime.now(UTC) - started).total_seconds()
    return summary


def _replay_batch(
    store: Store,
    batch: Selection,
    rebuilt: NormalizedBatch,
    last: bool,
    carried: bool,
    summary: ReplaySummary,
) -> bool:
    """Apply one rebuilt batch, add its counts to `summary`; return whether the state runs on."""
    counts = apply_replay(
        store, batch, rebuilt, carried=carried, last=last, slot_facts=batch.clients is None
    )
    for key, changed in counts.items():
        summary.changes[key] += changed
    summary.batches += 1
    summary.raw_read += rebuilt.bodies
    summary.rejected += rebuilt.rejected.height
    summary.snapshots += rebuilt.snapshots.height
    summary.lines += rebuilt.lines.height
    return carried or bool(counts)
