"""Replay against real DuckDB files: idempotent, and it touches exactly the rows that differ."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

import pipeline.rounds.replay as replay_module
from pipeline.cli import main
from pipeline.defs.definitions import build_definitions
from pipeline.defs.replay import REPLAY_JOB
from pipeline.normalize import NormalizedBatch, normalize_raw
from pipeline.rounds.ingest import ingest_range
from pipeline.rounds.replay import replay
from pipeline.settings import Settings
from pipeline.simulator import SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT
from pipeline.store import Database, open_store, raw_id_for
from pipeline.store.derived import DERIVED_TABLES, rebuild_derived
from pipeline.store.history import Selection, client_ranges, replay_batches, slot_batches
from pipeline.store.maintenance import compact_period, due_periods
from tests.test_archive import checksums

NO_CHANGE = {
    f"{table}.{change}": 0
    for table in ("balance_snapshots", "balance_lines")
    for change in ("inserted", "updated", "deleted")
}


def run_replay(db: Path, selection: Selection | None = None, **kwargs):
    with open_store(db) as store:
        return replay(store, selection, **kwargs)


def execute(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db))
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def changes(summary, **nonzero: int) -> bool:
    expected = {**NO_CHANGE, **{k.replace("__", "."): v for k, v in nonzero.items()}}
    return summary.changes == expected


def test_replay_twice_changes_nothing(demo_db: Path) -> None:
    before = checksums(demo_db)
    first = run_replay(demo_db)
    second = run_replay(demo_db)
    assert changes(first) and changes(second)
    assert first.snapshots_unchanged == before["balance_snapshots"][0]
    assert first.lines_unchanged == before["balance_lines"][0]
    assert checksums(demo_db) == before


def test_replay_restores_exactly_one_corrupted_line(demo_db: Path) -> None:
    before = checksums(demo_db)
    execute(
        demo_db,
        "update balance_lines set balance = balance + 1 "
        "where client_number = ? and slot_start = ? and currency = 'BTC'",
        [SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT],
    )
    assert checksums(demo_db) != before

    summary = run_replay(demo_db)

    assert changes(summary, balance_lines__updated=1)
    assert checksums(demo_db) == before


def test_replay_puts_back_missing_rows_and_removes_rows_raw_does_not_hold(demo_db: Path) -> None:
    before = checksums(demo_db)
    key = [SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT]
    lines = execute(
        demo_db,
        "select count(*) from balance_lines where client_number = ? and slot_start = ?",
        key,
    )[0][0]
    execute(demo_db, "delete from balance_lines where client_number = ? and slot_start = ?", key)
    execute(
        demo_db, "delete from balance_snapshots where client_number = ? and slot_start = ?", key
    )
    execute(
        demo_db,
        "insert into balance_lines select client_number, slot_start, 'XYZ', snapshot_id, "
        "observed_at, base_currency, 1, 1, 1, 0, 1 from balance_lines "
        "where client_number = 500601 limit 1",
    )

    summary = run_replay(demo_db)

    assert changes(
        summary,
        balance_snapshots__inserted=1,
        balance_lines__inserted=lines,
        balance_lines__deleted=1,
    )
    assert checksums(demo_db) == before


@pytest.mark.slow
def test_a_normalization_change_updates_only_the_rows_it_affects(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def shouting(raw: pl.DataFrame) -> NormalizedBatch:
        batch = normalize_raw(raw)
        message = pl.col("response_message").str.to_uppercase()
        own = pl.col("client_number") == SEED_EXAMPLE_CLIENT
        snapshots = batch.snapshots.with_columns(
            response_message=pl.when(own).then(message).otherwise(pl.col("response_message"))
        )
        return dataclasses.replace(batch, snapshots=snapshots)

    monkeypatch.setattr(replay_module, "normalize_raw", shouting)
    own = execute(
        demo_db,
        "select count(*) from balance_snapshots where client_number = ? "
        "and response_message <> upper(response_message)",
        [SEED_EXAMPLE_CLIENT],
    )[0][0]
    assert own > 0

    summary = run_replay(demo_db, batch_rows=100)

    assert summary.batches > 1
    assert changes(summary, balance_snapshots__updated=own)
    assert run_replay(demo_db).changes == NO_CHANGE


def test_replay_keeps_to_the_selected_client_and_range(demo_db: Path) -> None:
    before = checksums(demo_db)
    slot = SEED_EXAMPLE_INSTANT - timedelta(hours=5)
    for client in (500601, SEED_EXAMPLE_CLIENT):
        execute(
            demo_db,
            "update balance_lines set cash = 0 where client_number = ? and slot_start in (?, ?)",
            [client, slot, SEED_EXAMPLE_INSTANT],
        )
    corrupted = execute(
        demo_db, "select count(*) from balance_lines where client_number = 500601 and cash = 0"
    )[0][0]
    only = Selection(slot, slot + timedelta(hours=1), SEED_EXAMPLE_CLIENT)
    narrow = run_replay(demo_db, only)
    assert narrow.changes["balance_lines.updated"] > 0
    assert narrow.snapshots == 1
    # 500601's lines were not in the selection: still corrupted.
    still = execute(
        demo_db, "select count(*) from balance_lines where client_number = 500601 and cash = 0"
    )[0][0]
    assert still == corrupted
    run_replay(demo_db)
    assert checksums(demo_db) == before


@pytest.mark.slow
def test_small_batches_rebuild_the_same_history(demo_db: Path) -> None:
    intervals = "select * from balance_intervals order by all"
    before, intervals_before = checksums(demo_db), execute(demo_db, intervals)
    # Eight slots in the middle of the history, rebuilt one slot per batch: each batch carries
    # its derived state into the next, and the last one on into the later slots.
    start = SEED_EXAMPLE_INSTANT - timedelta(hours=20)
    gone = "slot_start >= ? and slot_start < ?"
    bounds = [start, start + timedelta(hours=8)]
    execute(demo_db, f"delete from balance_lines where {gone}", bounds)
    execute(demo_db, f"delete from balance_snapshots where {gone}", bounds)
    summary = run_replay(demo_db, Selection(*bounds), batch_rows=1)
    assert summary.batches == 8  # whole slots: one slot per batch
    assert checksums(demo_db) == before
    assert execute(demo_db, intervals) == intervals_before


def test_batches_are_whole_contiguous_slots() -> None:
    slot = SEED_EXAMPLE_INSTANT
    plan = [(slot + timedelta(hours=h), 10) for h in range(5)]
    batches = list(slot_batches(plan, Selection(client=7), 25))
    assert [(b.slot_from, b.slot_to, b.client) for b in batches] == [
        (slot, slot + timedelta(hours=3), 7),
        (slot + timedelta(hours=3), slot + timedelta(hours=4, microseconds=1), 7),
    ]


def test_client_ranges_cover_every_client_in_batches_of_about_the_rows() -> None:
    counts = [(10, 4), (11, 4), (12, 4), (20, 4), (30, 1)]
    assert client_ranges(counts, 8) == [(-(2**63), 11), (12, 20), (21, 2**63 - 1)]
    assert client_ranges(counts, 100) == [(-(2**63), 2**63 - 1)]
    assert client_ranges([], 8) == [(-(2**63), 2**63 - 1)]


def derived_rows(db: Path) -> dict[str, list[tuple]]:
    """The derived facts the views read. Not the tails: they are the refreshes' bookmarks (a
    refresh that stops at its range's end leaves one there), whose rows depend on the batches."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for t in DERIVED_TABLES if not t.endswith("_tail")]
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}
    finally:
        con.close()


def test_compacted_periods_replay_in_client_ranges_and_rebuild_the_same_history(
    demo_db: Path,
) -> None:
    with open_store(demo_db) as store:
        for period in due_periods(store):
            compact_period(store, period, lake=False)
    before, derived_before = checksums(demo_db), derived_rows(demo_db)
    with open_store(demo_db) as store:
        batches = replay_batches(store, Selection(), 100)
    # The demo's 48 slots end at noon on a Sunday: Friday's and Saturday's are compacted (by
    # day), each cut into client ranges of its whole day; Sunday's go in slot batches.
    in_ranges = [b for b in batches if b.clients is not None]
    assert len({(b.slot_from, b.slot_to) for b in in_ranges}) == 2
    assert len(in_ranges) > 2 and in_ranges[0].clients[0] == -(2**63)
    assert any(b.clients is None for b in batches)
    spans = sorted({(b.slot_from, b.slot_to) for b in batches}, key=lambda span: span[0])
    assert all(a[1] == b[0] for a, b in pairwise(spans))  # contiguous: they cover the history

    # Damage inside a compacted day (rows gone, values wrong, a per-slot fact lost), replay:
    # all of it, then only up to that day's end (its client ranges carry the state on to the
    # later slots, each for its own clients).
    day = in_ranges[-1]
    for selection in (Selection(), Selection(slot_to=day.slot_to)):
        damage(demo_db, day)
        first = run_replay(demo_db, selection, batch_rows=100)
        assert first.changes["balance_snapshots.inserted"] > 0
        assert first.changes["balance_lines.updated"] > 0
        assert checksums(demo_db) == before
        assert derived_rows(demo_db) == derived_before
    assert run_replay(demo_db, batch_rows=100).changes == NO_CHANGE


def test_a_replay_ending_in_a_compacted_period_carries_each_client_range_on(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(demo_db) as store:
        for period in due_periods(store):
            compact_period(store, period, lake=False)
        ranges = [b for b in replay_batches(store, Selection(), 100) if b.clients is not None]
    saturday = ranges[-1]  # the last range of the last compacted day
    low, high = saturday.clients or (0, 0)
    assert not low <= SEED_EXAMPLE_CLIENT <= high  # the client below is in an earlier range

    def moved(raw: pl.DataFrame) -> NormalizedBatch:
        """A normalization fix: one client's cash was 1 too high (its locked 1 too low)."""
        batch = normalize_raw(raw)
        own = pl.col("client_number") == SEED_EXAMPLE_CLIENT
        one = pl.lit(Decimal(1))
        lines = batch.lines.with_columns(
            cash=pl.when(own).then(pl.col("cash") - one).otherwise(pl.col("cash")),
            locked=pl.when(own).then(pl.col("locked") + one).otherwise(pl.col("locked")),
        )
        return dataclasses.replace(batch, lines=lines)

    # Replayed up to the end of Saturday (compacted: in client ranges), the fix changes the
    # state Sunday's observations start from: every range carries its clients' state on.
    monkeypatch.setattr(replay_module, "normalize_raw", moved)
    summary = run_replay(demo_db, Selection(slot_to=saturday.slot_to), batch_rows=100)
    assert summary.changes["balance_lines.updated"] > 0
    referee = tmp_path / "referee.duckdb"
    shutil.copy(demo_db, referee)
    with open_store(referee) as store, store.transaction():
        rebuild_derived(store.con)
    assert derived_rows(demo_db) == derived_rows(referee)


def damage(db: Path, day: Selection) -> None:
    """Rows gone for three clients, wrong cash for another, per-slot totals lost in `day`."""
    where = "slot_start >= ? and slot_start < ?"
    clients = "client_number in (500601, 500602, 500603)"
    execute(db, f"delete from balance_lines where {where} and {clients}", [*day_of(day)])
    execute(db, f"delete from balance_snapshots where {where} and {clients}", [*day_of(day)])
    execute(
        db,
        f"update balance_lines set cash = 0 where {where} and client_number = ?",
        [*day_of(day), SEED_EXAMPLE_CLIENT],
    )
    execute(db, f"delete from derived_slot_totals where {where}", [*day_of(day)])


def day_of(batch: Selection) -> tuple:
    return batch.slot_from, batch.slot_to


def add_raw(db: Path, observed_delta: timedelta, body: str) -> str:
    """Land another 200 answer for the seed (client, slot), observed `observed_delta` away."""
    (observed,) = execute(
        db,
        "select observed_at from raw_responses where client_number = ? and slot_start = ?",
        [SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT],
    )[0]
    observed = observed + observed_delta
    raw_id = raw_id_for(SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT, observed, body)
    execute(
        db,
        "insert into raw_responses (raw_id, client_number, slot_start, observed_at, http_status, "
        "body, body_size) values (?, ?, ?, ?, 200, ?, ?)",
        [raw_id, SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT, observed, body, len(body)],
    )
    return raw_id


@pytest.mark.slow
def test_the_same_body_wins_a_slot_as_in_ingest(demo_db: Path, tmp_path: Path) -> None:
    body = (
        '{"ResponseCode": 0, "Data": [{"Currency": "ILS", "Balance": 1.00, '
        '"Value_ILS": 1.00, "Cash": 1.00}], "Total_Floating_Balance_ILS": 1.00}'
    )
    before = checksums(demo_db)
    add_raw(demo_db, timedelta(seconds=30), body)  # a later answer: the first one stays
    later = run_replay(demo_db)
    assert changes(later) and later.rejected == 1
    assert checksums(demo_db)["balance_lines"] == before["balance_lines"]

    earlier = add_raw(demo_db, -timedelta(seconds=30), body)  # an earlier answer wins
    summary = run_replay(demo_db)
    assert summary.changes["balance_snapshots.updated"] == 1
    (winner,) = execute(
        demo_db,
        "select raw_id from balance_snapshots where client_number = ? and slot_start = ?",
        [SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT],
    )[0]
    assert winner == earlier

    # Ingest into a database without snapshots picks the same winner, so the tables agree.
    twin = tmp_path / "twin.duckdb"
    twin.write_bytes(demo_db.read_bytes())
    execute(twin, "delete from balance_lines")
    execute(twin, "delete from balance_snapshots")
    ingest_range(
        Database(twin),
        SEED_EXAMPLE_INSTANT - timedelta(days=3),
        SEED_EXAMPLE_INSTANT + timedelta(1),
    )
    assert checksums(twin) == checksums(demo_db)


def test_replay_job_runs_in_dagster_with_the_range_as_run_config(demo_db: Path) -> None:
    execute(
        demo_db,
        "update balance_snapshots set agency = 99 where client_number = ? and slot_start = ?",
        [SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT],
    )
    job = build_definitions(Settings(db_path=demo_db)).resolve_job_def(REPLAY_JOB)
    config = {
        "slot_from": SEED_EXAMPLE_INSTANT.isoformat(),
        "slot_to": (SEED_EXAMPLE_INSTANT + timedelta(hours=1)).isoformat(),
        "client": SEED_EXAMPLE_CLIENT,
    }
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            run_config={"ops": {"replay_history": {"config": config}}}, instance=instance
        )
    assert result.success
    output = result.output_for_node("replay_history")
    assert output["balance_snapshots.updated"] == 1
    assert output["bodies_read"] == 1 and output["batches"] == 1
    assert run_replay(demo_db).changes == NO_CHANGE


def test_cli_replay_reports_counts(demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("PIPELINE_DB", str(demo_db))
    counts = checksums(demo_db)
    snapshots, lines = counts["balance_snapshots"][0], counts["balance_lines"][0]
    execute(demo_db, "update balance_lines set value_base = value_base + 1 where currency = 'PEPE'")
    pepe = execute(demo_db, "select count(*) from balance_lines where currency = 'PEPE'")[0][0]
    assert pepe > 0
    assert main(["replay", "--from", "2026-10-30T00:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert f"balance_lines: {lines - pepe} unchanged, {pepe} updated, 0 inserted, 0 deleted" in out
    assert f"balance_snapshots: {snapshots} unchanged, 0 updated" in out
    assert checksums(demo_db) == counts


@pytest.mark.slow
def test_ingest_in_many_small_batches_gives_the_same_history(demo_db: Path, tmp_path: Path) -> None:
    # Each batch's append overlaps the next batch's normalization (rounds/ingest.py): many
    # small batches, as many overlaps, the same rows as the demo's own ingest.
    twin = tmp_path / "batches.duckdb"
    twin.write_bytes(demo_db.read_bytes())
    execute(twin, "delete from balance_lines")
    execute(twin, "delete from balance_snapshots")
    first, last = execute(demo_db, "select min(slot_start), max(slot_start) from raw_responses")[0]
    summary = ingest_range(Database(twin), first, last + timedelta(hours=1), batch_rows=150)
    assert summary.snapshots == execute(demo_db, "select count(*) from balance_snapshots")[0][0]
    assert checksums(twin) == checksums(demo_db)
    pairs = "select * from balance_line_pairs order by all"
    assert execute(twin, pairs) == execute(demo_db, pairs)
