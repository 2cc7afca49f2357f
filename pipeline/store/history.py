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
from pipeline.store.derived import refresh_derived, refresh_slot_facts
from pipeline.store.sqlfiles import load_sql
from pipeline.store.store import Store


@dataclass(frozen=True)
class Selection:
    """Which raw answers (and the history derived from them) a command works on.

    Slots in [slot_from, slot_to); None means unbounded. `client` None means every client;
    `clients` an inclusive range of them instead (a replay batch of a compacted period).
    """

    slot_from: datetime | None = None
    slot_to: datetime | None = None
    client: int | None = None
    clients: tuple[int, int] | None = None

    @property
    def client_range(self) -> tuple[int, int] | None:
        return (self.client, self.client) if self.client is not None else self.clients

    def params(self) -> dict[str, object]:
        first, last = self.client_range or (None, None)
        return {"from": self.slot_from, "to": self.slot_to, "client_lo": first, "client_hi": last}


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


# Client numbers are BIGINT: the first and last client ranges reach the ends of that type, so
# a period's ranges cover every client, one the counts did not see included.
_FIRST_CLIENT, _LAST_CLIENT = -(2**63), 2**63 - 1


def replay_batches(store: Store, selection: Selection, batch_rows: int) -> list[Selection]:
    """The batches a replay of `selection` works through, in slot order, ~`batch_rows` rows each.

    Whole slots over all clients, as slot_batches cuts them, except in periods `pipeline
    maintain` compacted: their row groups hold clients, not slots, so a batch of a few slots
    would read the whole period, and a week of a 10,000-client book was read 168 times. There
    a batch is the whole period (as far as the selection reaches) for a range of clients.
    Consecutive batches share their bounds, so together they cover the selection.
    """
    return _batches(store, replay_plan(store, selection), selection, batch_rows, by_client=True)


def export_batches(
    store: Store, slots: list[tuple[datetime, int]], selection: Selection, batch_rows: int
) -> list[Selection]:
    """The batches raw answers are read in slot order by (an archive): whole slots of about
    `batch_rows` answers, except that a compacted period is one batch, read by one sorted query
    (its row groups hold clients: a batch of a few slots would read all of them)."""
    return _batches(store, slots, selection, batch_rows, by_client=False)


def _batches(
    store: Store,
    slots: list[tuple[datetime, int]],
    selection: Selection,
    batch_rows: int,
    *,
    by_client: bool,
) -> list[Selection]:
    if not slots:
        return []
    # One client's rows: its reads skip to its row groups however a period is stored.
    periods = [] if selection.client is not None else _compacted_periods(store)
    batches: list[Selection] = []
    for run, period in _runs(slots, periods):
        start, end = run[0][0], _run_end(slots, run)
        if period is None:
            cut = list(slot_batches(run, selection, batch_rows))
            batches += [*cut[:-1], Selection(cut[-1].slot_from, end, selection.client)]
        elif by_client:
            counts = store._run("store/replay_client_counts", {"from": start, "to": end})
            ranges = client_ranges(counts.fetchall(), batch_rows)
            batches += [Selection(start, end, clients=clients) for clients in ranges]
        else:
            batches.append(Selection(start, end))
    return batches


def client_ranges(counts: list[tuple[int, int]], batch_rows: int) -> list[tuple[int, int]]:
    """Inclusive client ranges of about `batch_rows` rows each, from (client, rows) in client
    order, covering every BIGINT client number."""
    ranges: list[tuple[int, int]] = []
    start, rows = _FIRST_CLIENT, 0
    for index, (client, count) in enumerate(counts):
        rows += count
        if rows >= batch_rows and index < len(counts) - 1:
            ranges.append((start, client))
            start, rows = client + 1, 0
    ranges.append((start, _LAST_CLIENT))
    return ranges


def _compacted_periods(store: Store) -> list[tuple[datetime, datetime]]:
    return sorted(tuple(row) for row in store._run("maintenance/compacted_periods").fetchall())


def _runs(
    slots: list[tuple[datetime, int]], periods: list[tuple[datetime, datetime]]
) -> Iterator[tuple[list[tuple[datetime, int]], tuple[datetime, datetime] | None]]:
    """Consecutive slots grouped by the compacted period holding them (None: none does)."""
    run: list[tuple[datetime, int]] = []
    holder: tuple[datetime, datetime] | None = None
    for slot, count in slots:
        period = next((p for p in periods if p[0] <= slot < p[1]), None)
        if run and period != holder:
            yield run, holder
            run = []
        run.append((slot, count))
        holder = period
    yield run, holder


def _run_end(slots: list[tuple[datetime, int]], run: list[tuple[datetime, int]]) -> datetime:
    """Where a run's batches end: the next run's first slot, or just after the last slot."""
    last = run[-1][0]
    later = [slot for slot, _ in slots if slot > last]
    return later[0] if later else last + timedelta(microseconds=1)


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
    slot_facts: bool = True,
) -> dict[str, int]:
    """Make the batch's stored snapshots and lines equal to `rebuilt`, touching only rows that
    differ, and refresh the batch's derived facts, in one transaction.

    Args:
        carried: an earlier batch of the same replay changed something, so this one's derived
            rows are refreshed even if its own rows did not change (the state runs on).
        last: no batch of the replay follows (for these clients): the refresh carries the state
            on to later history.
        slot_facts: False for a batch of client ranges; the caller refreshes the per-slot facts
            and client sightings of the period afterwards (refresh_period_slot_facts).

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
        if slot_facts:  # else once for the whole period, after its last client range
            store._run("store/replay_touch_clients", params)
        if counts or carried:
            refresh_derived(
                store.con,
                batch.slot_from,
                batch.slot_to,
                clients=batch.client_range,
                propagate=last,
                slot_facts=slot_facts,
            )
    return counts


def refresh_period_slot_facts(store: Store, batch: Selection, *, changed: bool) -> bool:
    """After the client-range batches of a compacted period: its per-slot facts (over all
    clients), rewritten when a batch `changed` something or when they differ from the stored
    ones (an interrupted replay's), and its client sightings, in one transaction. Returns
    whether the facts were rewritten."""
    assert batch.slot_from is not None and batch.slot_to is not None
    period = Selection(batch.slot_from, batch.slot_to)
    with store.ingest_lock(), store.transaction():
        store._run("store/replay_touch_clients", period.params())
        return refresh_slot_facts(store.con, batch.slot_from, batch.slot_to, force=changed)
