"""Data-quality checks: the SQL on crafted rows, slot scoping, the check_results log, and the
Dagster wiring (partitioned slot checks in the poll, book checks on their own job)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from analytics_data import T0, Book, slot

from pipeline.analytics.checks import (
    BOOK_CHECKS,
    CHECKS,
    SLOT_CHECKS,
    check_named,
    evaluate,
    evaluate_slots,
    run_checks,
)
from pipeline.defs.checks import BOOK_CHECKS_JOB, build_slot_checks
from pipeline.defs.definitions import build_definitions
from pipeline.defs.partitions import PARTITION_FMT, poll_partitions, slot_length
from pipeline.defs.resources import StoreResource
from pipeline.settings import Settings
from pipeline.store import connect

HOUR = timedelta(hours=1)
RATES = "balance_lines_implied_rates_agree"


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


def three_btc_holders(book: Book, hours: float, *, outlier: bool = False) -> None:
    """Clients 1-3 holding BTC in slot `hours`; with `outlier`, client 3 is valued 1.5 % high."""
    book.snapshot(1, hours, {"BTC": ("1", "1", "200000.00")})
    book.snapshot(2, hours, {"BTC": ("0.5", "0.5", "100000.00")})
    book.snapshot(3, hours, {"BTC": ("2", "2", "406000.00" if outlier else "400000.00")})


def _outcome(book: Book, name: str, now: datetime | None = None):
    return evaluate(book.con, check_named(name), now=now or slot(1), max_age=2 * HOUR)


def _slots(*hours: float) -> list[tuple[datetime, datetime]]:
    return [(slot(h), slot(h) + HOUR) for h in hours]


def test_clean_data_passes_every_check(book: Book) -> None:
    outcomes = run_checks(book.con, now=slot(1), max_age=2 * HOUR, checks=CHECKS)
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
    outcome = _outcome(book, RATES)
    assert [(r["client_number"], r["currency"]) for r in outcome.sample] == [(6, "BTC")]


def test_duplicate_keys_fail(book: Book) -> None:
    assert _outcome(book, "balance_snapshots_have_unique_keys").passed
    book.con.execute(
        "insert into balance_lines select * from balance_lines where client_number = 2"
    )
    lines = _outcome(book, "balance_lines_have_unique_keys")
    assert (lines.passed, lines.offending_rows, lines.sample[0]["copies"]) == (False, 1, 2)
    # No index refuses a duplicate snapshot (sql/ddl/001_tables.sql): the check must find it.
    book.con.execute(
        "insert into balance_snapshots select * from balance_snapshots where client_number = 2"
    )
    snapshots = _outcome(book, "balance_snapshots_have_unique_keys")
    assert (snapshots.passed, snapshots.offending_rows) == (False, 1)


def test_a_raw_answer_or_an_attempt_stored_twice_fails_its_checks(book: Book) -> None:
    # No index refuses either (sql/ddl/001_tables.sql): the checks must find what slips by.
    raw = """
        insert into raw_responses (raw_id, client_number, slot_start, observed_at, http_status,
                                   body)
        values ('r1', 1, $slot, $slot, 200, '{}')
    """
    book.con.execute(raw, {"slot": slot(0)})
    assert _outcome(book, "raw_responses_have_unique_ids").passed
    assert _outcome(book, "fetch_attempts_have_unique_keys").passed
    book.con.execute(raw, {"slot": slot(0)})
    book.con.execute(
        "insert into fetch_attempts select * from fetch_attempts where client_number = 3"
    )
    ids = _outcome(book, "raw_responses_have_unique_ids")
    assert (ids.passed, ids.offending_rows, ids.sample[0]["copies"]) == (False, 1, 2)
    attempts = _outcome(book, "fetch_attempts_have_unique_keys")
    assert (attempts.passed, attempts.offending_rows, attempts.sample[0]["client_number"]) == (
        False,
        1,
        3,
    )
    # The book checks find them too (an import or a replay is never checked by a poll).
    assert not _outcome(book, "raw_responses_all_slots_pass").passed
    assert not _outcome(book, "fetch_attempts_all_slots_pass").passed


def test_freshness_allows_two_schedule_intervals(book: Book) -> None:
    assert _outcome(book, "balance_snapshots_are_fresh", now=slot(2)).passed
    stale = _outcome(book, "balance_snapshots_are_fresh", now=slot(2) + timedelta(seconds=1))
    assert not stale.passed
    assert stale.sample[0]["newest_slot"] == slot(0)


def test_a_slot_check_reads_only_its_slot(book: Book) -> None:
    # An old outlier in slot 1, a clean slot 2, a new outlier in slot 3.
    three_btc_holders(book, 1, outlier=True)
    three_btc_holders(book, 2)
    three_btc_holders(book, 3, outlier=True)
    outcomes = evaluate_slots(book.con, check_named(RATES), _slots(0, 1, 2, 3))
    assert [o.passed for o in outcomes] == [True, False, True, False]
    assert [(o.slot_from, o.slot_to) for o in outcomes] == _slots(0, 1, 2, 3)
    new = outcomes[3]
    assert [(r["client_number"], r["slot_start"]) for r in new.sample] == [(3, slot(3))]
    # One slot alone: the clean slot after an outlier passes; the outlier's slot fails.
    assert evaluate_slots(book.con, check_named(RATES), _slots(2))[0].passed
    assert not evaluate_slots(book.con, check_named(RATES), _slots(3))[0].passed


def test_a_slot_check_samples_each_slot_and_counts_all_its_rows(book: Book) -> None:
    for client in range(10, 40):  # 30 lines with cash above balance in slot 1
        book.snapshot(client, 1, {"USD": ("10", "12", "10.00")})
    (outcome,) = evaluate_slots(
        book.con, check_named("balance_lines_cash_not_above_balance"), _slots(1)
    )
    assert (outcome.passed, outcome.offending_rows, len(outcome.sample)) == (False, 30, 20)


def test_book_checks_cover_every_slot_with_a_breakdown(book: Book) -> None:
    three_btc_holders(book, 1, outlier=True)
    three_btc_holders(book, 2)
    three_btc_holders(book, 5, outlier=True)
    outcome = _outcome(book, "balance_lines_all_slots_pass")
    assert (outcome.passed, outcome.offending_rows) == (False, 2)
    assert outcome.effective_severity == "WARN"  # only the WARN rate check fails
    rates = outcome.breakdown[RATES]
    assert (rates["rows"], rates["slots"], rates["first_slot"], rates["last_slot"]) == (
        2,
        2,
        slot(1),
        slot(5),
    )
    assert _outcome(book, "balance_snapshots_all_slots_pass").passed
    book.con.execute(
        "insert into balance_lines select * from balance_lines where client_number = 2"
    )
    assert _outcome(book, "balance_lines_all_slots_pass").effective_severity == "ERROR"


def test_check_results_is_an_audit_log_with_one_row_per_slot_and_evaluation(book: Book) -> None:
    from pipeline.analytics.checks import record

    run_checks(book.con, now=slot(1), max_age=2 * HOUR)
    book.snapshot(6, 0, {"ILS": ("10", "10", "10.00")}, total="10.01")
    run_checks(book.con, now=slot(2), max_age=2 * HOUR)
    rows = book.rows(
        "select evaluated_at, passed, severity, offending_rows, details, slot_from from"
        " check_results where check_name = 'balance_snapshots_all_slots_pass'"
        " order by evaluated_at"
    )
    assert [(r["evaluated_at"], r["passed"], r["offending_rows"]) for r in rows] == [
        (slot(1), True, 0),
        (slot(2), False, 1),
    ]
    assert rows[1]["severity"] == "ERROR" and rows[1]["slot_from"] is None
    details = json.loads(rows[1]["details"])
    assert details["breakdown"]["balance_snapshots_reconcile_to_lines"]["rows"] == 1
    assert book.rows("select count(*) as n from check_results") == [{"n": 2 * len(BOOK_CHECKS)}]

    check = check_named("balance_snapshots_reconcile_to_lines")
    record(book.con, evaluate_slots(book.con, check, _slots(0, 1)), slot(3))
    per_slot = book.rows(
        "select slot_from, slot_to, passed, offending_rows from check_results"
        " where check_name = $name order by slot_from",
        {"name": check.name},
    )
    assert per_slot == [
        {"slot_from": slot(0), "slot_to": slot(1), "passed": False, "offending_rows": 1},
        {"slot_from": slot(1), "slot_to": slot(2), "passed": True, "offending_rows": 0},
    ]


def test_freshness_window_is_two_slots_of_the_cron() -> None:
    assert slot_length(poll_partitions("0 * * * *")) == HOUR
    assert slot_length(poll_partitions("*/15 * * * *")) == timedelta(minutes=15)


def test_asset_checks_are_named_after_their_property_and_registered() -> None:
    defs = build_definitions(Settings(db_path=Path("unused.duckdb")))
    keys = {key.name for checks_def in defs.asset_checks or [] for key in checks_def.check_keys}
    assert keys == {c.name for c in CHECKS}


def _run_slot_checks(
    db: Path, first: str, last: str
) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """Run the partitioned slot checks in Dagster over [first, last] in one run."""
    partitions = poll_partitions("0 * * * *", T0)
    specs = [
        dg.AssetSpec(t, partitions_def=partitions) for t in ("balance_snapshots", "balance_lines")
    ]
    result = dg.materialize(
        [*specs, *build_slot_checks(partitions)],
        resources={"store": StoreResource.from_settings(Settings(db_path=db))},
        selection=dg.AssetSelection.all_asset_checks(),
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
        raise_on_error=False,
    )
    assert result.success  # WARN and ERROR checks alike: none is blocking
    return {(e.check_name, e.partition): e for e in result.get_asset_check_evaluations()}


@pytest.mark.slow
def test_dagster_slot_checks_pass_a_clean_slot_and_fail_a_new_outlier(
    book: Book, tmp_path: Path
) -> None:
    three_btc_holders(book, 1, outlier=True)  # old
    three_btc_holders(book, 2)  # clean
    three_btc_holders(book, 3, outlier=True)  # new
    book.refresh()
    key = {h: slot(h).strftime(PARTITION_FMT) for h in range(4)}
    evaluations = _run_slot_checks(tmp_path / "crafted.duckdb", key[0], key[3])
    # One evaluation per check and slot of the run: each partition shows its own verdict.
    assert set(evaluations) == {(c.name, key[h]) for c in SLOT_CHECKS for h in range(4)}
    rates = {h: evaluations[RATES, key[h]] for h in range(4)}
    assert [rates[h].passed for h in range(4)] == [True, False, True, False]
    assert rates[3].severity == dg.AssetCheckSeverity.WARN
    assert rates[3].metadata["offending_rows"].value == 1
    assert [r["client_number"] for r in rates[3].metadata["offending_sample"].value] == [3]
    others = [e for (name, _), e in evaluations.items() if name != RATES]
    assert all(e.passed for e in others)
    logged = book.rows(
        "select slot_from, passed from check_results where check_name = $n order by slot_from",
        {"n": RATES},
    )
    assert [(r["slot_from"], r["passed"]) for r in logged] == [
        (slot(h), h not in (1, 3)) for h in range(4)
    ]


@pytest.mark.slow
def test_book_checks_run_in_their_own_job_and_are_logged(demo_db: Path) -> None:
    defs = build_definitions(Settings(db_path=demo_db))
    job = defs.resolve_job_def(BOOK_CHECKS_JOB)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    # The demo book holds a deliberate ETH outlier (client 500613): a WARN, the run succeeds.
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {c.name for c in BOOK_CHECKS}
    lines = evaluations["balance_lines_all_slots_pass"]
    assert not lines.passed
    assert lines.severity == dg.AssetCheckSeverity.WARN
    assert lines.metadata[f"{RATES}_rows"].value > 0
    assert evaluations["balance_snapshots_all_slots_pass"].passed
    assert not evaluations["balance_snapshots_are_fresh"].passed  # the demo is in the past
    con = connect(demo_db, read_only=True)
    try:
        logged = con.execute(
            "select count(*), count(*) filter (where not passed), count(slot_from)"
            " from check_results"
        ).fetchall()
        assert logged == [(len(BOOK_CHECKS), 2, 0)]
        details = con.execute(
            "select details from check_results where check_name = 'balance_lines_all_slots_pass'"
        ).fetchall()[0][0]
        sample = json.loads(details)["breakdown"][RATES]
        assert sample["rows"] == lines.metadata[f"{RATES}_rows"].value
    finally:
        con.close()
