"""Data-quality checks: the SQL on crafted rows, the check_results log, and the Dagster wiring."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from analytics_data import Book, slot

from pipeline.analytics.checks import CHECKS, check_named, evaluate, run_checks
from pipeline.defs.checks import build_checks, schedule_interval
from pipeline.defs.definitions import build_definitions
from pipeline.defs.partitions import poll_partitions
from pipeline.defs.resources import StoreResource
from pipeline.settings import Settings
from pipeline.store import connect

HOUR = timedelta(hours=1)


@pytest.fixture
def book(tmp_path: Path) -> Book:
    book = Book.create(tmp_path / "crafted.duckdb")
    book.snapshot(1, 0, {"BTC": ("1", "1", "200000.00"), "ILS": ("5", "5", "5.00")})
    book.snapshot(2, 0, {"BTC": ("0.5", "0.5", "100000.00")})
    book.snapshot(3, 0, {"BTC": ("0.25", "0.25", "50000.00")})
    book.snapshot(4, 0, {"BTC": ("0.00000001", "0.00000001", "0.00")})  # dust: no outlier
    book.snapshot(5, 0, {"ILS": ("-100", "-100", "-100.00")})  # a debt: cash = balance
    yield book
    book.con.close()


def _outcome(book: Book, name: str, now: datetime | None = None):
    return evaluate(book.con, check_named(name), now=now or slot(1), max_age=2 * HOUR)


def test_clean_data_passes_every_check(book: Book) -> None:
    outcomes = run_checks(book.con, now=slot(1), max_age=2 * HOUR)
    assert {o.check.name: o.passed for o in outcomes} == {c.name: True for c in CHECKS}


def test_a_total_off_by_one_cent_fails_reconciliation_with_the_snapshot(book: Book) -> None:
    book.snapshot(6, 0, {"ILS": ("10", "10", "10.00")}, total="10.01")
    outcome = _outcome(book, "balance_snapshots_reconcile_to_lines")
    assert (outcome.passed, outcome.offending_rows) == (False, 1)
    assert outcome.sample[0]["client_number"] == 6
    assert str(outcome.sample[0]["difference"]) == "0.01"


def test_cash_above_a_positive_balance_warns(book: Book) -> None:
    book.snapshot(6, 0, {"USD": ("10", "12", "30.00")})
    outcome = _outcome(book, "balance_lines_cash_not_above_balance")
    assert (outcome.passed, outcome.offending_rows) == (False, 1)
    assert outcome.check.severity == "WARN"


def test_an_outlier_rate_warns_with_the_line(book: Book) -> None:
    book.snapshot(6, 0, {"BTC": ("2", "2", "406000.00")})  # 1.5 % above 200000
    outcome = _outcome(book, "balance_lines_implied_rates_agree")
    assert [(r["client_number"], r["currency"]) for r in outcome.sample] == [(6, "BTC")]


def test_duplicate_keys_fail(book: Book) -> None:
    book.con.execute(
        "insert into balance_lines select * from balance_lines where client_number = 2"
    )
    # balance_snapshots has a primary key: a duplicate cannot even be written there
    lines = _outcome(book, "balance_lines_have_unique_keys")
    assert (lines.passed, lines.offending_rows, lines.sample[0]["copies"]) == (False, 1, 2)
    assert _outcome(book, "balance_snapshots_have_unique_keys").passed


def test_freshness_allows_two_schedule_intervals(book: Book) -> None:
    assert _outcome(book, "balance_snapshots_are_fresh", now=slot(2)).passed
    stale = _outcome(book, "balance_snapshots_are_fresh", now=slot(2) + timedelta(seconds=1))
    assert not stale.passed
    assert stale.sample[0]["newest_slot"] == slot(0)


def test_check_results_is_an_audit_log_with_one_row_per_evaluation(book: Book) -> None:
    run_checks(book.con, now=slot(1), max_age=2 * HOUR)
    book.snapshot(6, 0, {"ILS": ("10", "10", "10.00")}, total="10.01")
    run_checks(book.con, now=slot(2), max_age=2 * HOUR)
    rows = book.rows(
        "select evaluated_at, passed, severity, offending_rows, details from check_results"
        " where check_name = 'balance_snapshots_reconcile_to_lines' order by evaluated_at"
    )
    assert [(r["evaluated_at"], r["passed"], r["offending_rows"]) for r in rows] == [
        (slot(1), True, 0),
        (slot(2), False, 1),
    ]
    assert rows[1]["severity"] == "ERROR"
    assert json.loads(rows[1]["details"])["sample"][0]["difference"] == "0.01"
    assert book.rows("select count(*) as n from check_results") == [{"n": 2 * len(CHECKS)}]


def test_freshness_window_is_two_slots_of_the_cron() -> None:
    assert schedule_interval(poll_partitions("0 * * * *")) == HOUR
    assert schedule_interval(poll_partitions("*/15 * * * *")) == timedelta(minutes=15)


def test_asset_checks_are_named_after_their_property_and_registered() -> None:
    defs = build_definitions(Settings(db_path=Path("unused.duckdb")))
    keys = {key.name for checks_def in defs.asset_checks or [] for key in checks_def.check_keys}
    assert keys == {c.name for c in CHECKS}


def test_checks_run_in_dagster_and_are_logged(demo_db: Path) -> None:
    checks = build_checks(poll_partitions("0 * * * *"))
    result = dg.materialize(
        [*_source_assets(), *checks],
        resources={"store": StoreResource.from_settings(Settings(db_path=demo_db))},
        selection=dg.AssetSelection.all_asset_checks(),
        raise_on_error=False,
    )
    # The demo book holds a deliberate ETH outlier (client 500613): a WARN, the run succeeds.
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {c.name for c in CHECKS}
    rates = evaluations["balance_lines_implied_rates_agree"]
    assert not rates.passed
    assert rates.severity == dg.AssetCheckSeverity.WARN
    sample = rates.metadata["offending_sample"].value
    assert {row["client_number"] for row in sample} == {500613}
    assert evaluations["balance_snapshots_reconcile_to_lines"].passed
    assert evaluations["balance_lines_have_unique_keys"].passed
    con = connect(demo_db, read_only=True)
    try:
        logged = con.execute(
            "select count(*), count(*) filter (where not passed) from check_results"
        )
        assert logged.fetchone() == (len(CHECKS), 2)  # the outlier and (old demo) freshness
    finally:
        con.close()


def _source_assets() -> list[dg.AssetSpec]:
    return [dg.AssetSpec("balance_snapshots"), dg.AssetSpec("balance_lines")]
