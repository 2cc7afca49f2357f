"""The DuckDB store against real files: idempotency, atomicity, exact money."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from backfill import backfill_from_simulator, hourly_slots

from pipeline.normalize import normalize_raw
from pipeline.rounds.ingest import ingest_range
from pipeline.simulator import SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT
from pipeline.store import Database, Store, connect, open_store
from tests.conftest import DEMO_HOURS, DEMO_START
from tests.invariants import assert_no_snapshot_without_lines


def counts(path: Path) -> dict[str, int]:
    con = connect(path, read_only=True)
    try:
        return Store(con).table_counts()
    finally:
        con.close()


def test_demo_history_holds_every_slot_and_the_seed_example(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    slots = con.execute("select count(distinct slot_start) from balance_snapshots").fetchone()[0]
    assert slots == DEMO_HOURS
    lines = con.execute(
        """
        select currency, balance, value_base, cash, locked, implied_rate
        from balance_lines where client_number = ? and slot_start = ?
        order by currency
        """,
        [SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT],
    ).fetchall()
    assert [row[0] for row in lines] == ["BTC", "ETH", "ILS", "USD"]
    assert sum(row[2] for row in lines) == Decimal("72888.65")
    btc = lines[0]
    assert btc[1] == Decimal("0.10790961") and btc[2] == Decimal("25133.80")
    assert btc[5] == pytest.approx(25133.8 / 0.10790961, rel=1e-12)
    assert lines[2][4] == Decimal("2000.00000000")  # ILS margin lock
    total = con.execute(
        "select total_floating_balance, base_currency from balance_snapshots "
        "where client_number = ? and slot_start = ?",
        [SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT],
    ).fetchone()
    assert total == (Decimal("72888.65"), "ILS")


def test_money_columns_are_decimal_in_duckdb(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'balance_lines'"
        ).fetchall()
    )
    assert types["balance"] == "DECIMAL(38,8)"
    assert types["value_base"] == "DECIMAL(38,2)"
    assert types["cash"] == "DECIMAL(38,8)"
    assert types["locked"] == "DECIMAL(38,8)"
    assert types["implied_rate"] == "DOUBLE"


def test_extreme_balances_land_exactly(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    # A float64 cannot hold 150000000000.12345678: it would come back as ...12344 or so.
    big = con.execute(
        "select balance::varchar from balance_lines where currency = 'PEPE' "
        "and balance = 150000000000.12345678 limit 1"
    ).fetchone()
    assert big == ("150000000000.12345678",)
    dust = con.execute(
        "select balance::varchar from balance_lines where balance = 0.00000001 limit 1"
    ).fetchone()
    assert dust == ("0.00000001",)


def test_re_running_a_backfill_adds_no_row(demo_db: Path) -> None:
    before = counts(demo_db)
    backfill_from_simulator(demo_db, hourly_slots(DEMO_START, DEMO_HOURS), run_id="again")
    assert counts(demo_db) == before


def test_a_snapshot_never_exists_without_its_lines(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "atomic.duckdb"
    slots = hourly_slots(SEED_EXAMPLE_INSTANT, 2)
    polled, _ = backfill_from_simulator(path, slots[:1])
    before = counts(path)

    # Land the second slot's raw bodies, then fail between the snapshot and the line inserts.
    backfill_source = hourly_slots(slots[1], 1)
    original = Store._run

    def interrupted(self: Store, name: str, params: dict | None = None):
        if name == "store/insert_lines":
            raise RuntimeError("simulated crash between snapshots and lines")
        return original(self, name, params)

    monkeypatch.setattr(Store, "_run", interrupted)
    with pytest.raises(RuntimeError, match="simulated crash"):
        backfill_from_simulator(path, backfill_source, run_id="crash")
    after_crash = counts(path)
    assert after_crash["balance_snapshots"] == before["balance_snapshots"]
    assert after_crash["balance_lines"] == before["balance_lines"]
    assert after_crash["raw_responses"] > before["raw_responses"]  # landed before parsing

    # The raw bodies are kept: ingesting again completes the slot.
    monkeypatch.setattr(Store, "_run", original)
    result = ingest_range(Database(path), slots[1], slots[1] + (slots[1] - slots[0]))
    assert result.snapshots == polled.clients
    con = duckdb.connect(str(path), read_only=True)
    assert_no_snapshot_without_lines(con)


def test_appending_the_same_batch_twice_adds_nothing(demo_db: Path) -> None:
    with open_store(demo_db) as store:
        raw = store.con.sql(
            "select raw_id, client_number, slot_start, observed_at, body from raw_responses"
        ).pl()
        batch = normalize_raw(raw)
        first, last = raw["slot_start"].min(), raw["slot_start"].max()
        assert store.append_snapshots(batch, first, last + timedelta(hours=1)) == (0, 0)
