"""Statements for audit and replay: stream raw out, append raw in, rebuild history by diff.

Kept apart from store.py (the polling path); every statement is a file in sql/store/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
import pyarrow as pa

from pipeline.normalize import NormalizedBatch
from pipeline.store.derived import refresh_derived
from pipeline.store.sqlfiles import load_sql
from pipeline.store.store import Store


@dataclass(frozen=True)
class Selection:
    """Which raw answers (and the history derived from them) a command works on.

    Slots in [slot_from, slot_to); None means unbounded. `client` None means every client.
    """

    slot_from: datetime | None = None
    slot_to: datetime | None = None
    client: int | None = None

    def params(self) -> dict[str, object]:
        return {"from": self.slot_from, "to": self.slot_to, "client": self.client}


def raw_slot_counts(store: Store, selection: Selection) -> list[tuple[datetime, int]]:
    """(slot_start, answers) for every slot of the selection, in slot order."""
    return store._run("store/raw_slot_counts", selection.params()).fetchall()


def slot_batches(
    slots: list[tuple[datetime, int]], selection: Selection, batch_rows: int
) -> Iterator[Selection]:
    """Consecutive whole-slot ranges of about `batch_rows` rows each, covering `slots`."""
    start: datetime | None = None
    rows = 0
    for index, (slot, count) in enumerate(slots):
        if start is None:
            start = slot
        rows += count
        last = index == len(slots) - 1
        if rows >= batch_rows or last:
            end = slot + timedelta(microseconds=1) if last else slots[index + 1][0]
            yield Selection(start, end, selection.client)
            start, rows = None, 0


def stream_raw(store: Store, batch: Selection, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """One batch's answers in archive order, `batch_rows` at a time."""
    # execute, not a relation with bound parameters: see store.query_frame.
    reader = store.con.execute(load_sql("store/raw_export"), batch.params())
    yield from reader.to_arrow_reader(batch_rows)


def insert_raw(store: Store, raw: pl.DataFrame) -> int:
    """Append answers (RAW_ROW_SCHEMA) in one transaction; return how many were new."""
    if raw.is_empty():
        return 0
    with store.transaction({"imported_raw": raw}):
        return store._count("store/raw_import")


def replay_plan(store: Store, selection: Selection) -> list[tuple[datetime, int]]:
    """(slot_start, rows) for every slot holding raw answers or snapshots in the selection."""
    return store._run("store/replay_plan", selection.params()).fetchall()


def replay_candidates(store: Store, batch: Selection) -> pl.DataFrame:
    """Bodies of one batch that may hold a snapshot (same filter as ingest's pending_raw)."""
    return store.frame("store/replay_raw", batch.params())


_DIFF = ["store/replay_diff_snapshots", "store/replay_diff_lines"]
_APPLY = [
    "store/replay_delete_snapshots",
    "store/replay_insert_snapshots",
    "store/replay_delete_lines",
    "store/replay_insert_lines",
]


def apply_replay(
    store: Store,
    batch: Selection,
    rebuilt: NormalizedBatch,
    *,
    carried: bool = False,
    last: bool = True,
) -> dict[str, int]:
    """Make the batch's stored snapshots and lines equal to `rebuilt`, touching only rows that
    differ, and refresh the batch's derived facts, in one transaction.

    Args:
        carried: an earlier batch of the same replay changed something, so this one's derived
            rows are refreshed even if its own rows did not change (the state runs on).
        last: no batch of the replay follows: the refresh carries the state on to later history.

    Returns:
        Counts keyed "<table>.<change>" for change in inserted, updated, deleted.
    """
    params = batch.params()
    frames = {"replay_snapshots": rebuilt.snapshots, "replay_lines": rebuilt.lines}
    # Under the ingest lock: on a lake, shards' appends and this rewrite then take turns.
    with store.ingest_lock(), store.transaction(frames):
        for name in _DIFF:
            store._run(name, params)
        counts = {
            f"{table}.{change}": n
            for table, change, n in store._run("store/replay_change_counts").fetchall()
        }
        if counts:
            for name in _APPLY:
                store._run(name)
        store._run("store/replay_touch_clients", params)
        if counts or carried:
            refresh_derived(
                store.con, batch.slot_from, batch.slot_to, client=batch.client, propagate=last
            )
    return counts
