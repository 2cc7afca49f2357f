"""The analytics views in sql/views, each pinned on crafted rows, and all of them on the demo."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from analytics_data import Book, slot

from pipeline.store import connect
from pipeline.store.sqlfiles import sql_names

VIEWS = [
    "observed_snapshots",
    "balance_line_pairs",
    "latest_balances",
    "house_totals",
    "balance_changes",
    "balance_intervals",
    "daily_balances",
    "coverage",
    "implied_fx_rates",
    "fx_rate_outliers",
    "value_attribution",
    "locked_funds",
    "locked_episodes",
    "account_status_history",
    "snapshot_reconciliation",
    "fetch_health",
    "slot_completeness",
]


@pytest.fixture
def book(tmp_path: Path) -> Book:
    book = Book.create(tmp_path / "crafted.duckdb")
    yield book
    book.con.close()


def test_every_view_file_is_listed_here() -> None:
    names = {name.split("/")[1].split("_", 1)[1] for name in sql_names("views")}
    assert names == set(VIEWS)


def test_vanished_currency_shows_as_change_to_zero_and_returns_from_zero(book: Book) -> None:
    book.snapshot(1, 0, {"BTC": ("1", "1", "200000.00"), "ILS": ("100", "100", "100.00")})
    book.snapshot(1, 1, {"ILS": ("100", "100", "100.00")})
    book.snapshot(1, 2, {"BTC": ("1", "1", "201000.00"), "ILS": ("100", "100", "100.00")})

    changes = book.rows(
        "select currency, prev_slot_start, slot_start, prev_balance, balance, change_kind,"
        " value_change from balance_changes order by slot_start"
    )
    assert changes == [
        {
            "currency": "BTC",
            "prev_slot_start": slot(0),
            "slot_start": slot(1),
            "prev_balance": Decimal("1"),
            "balance": Decimal("0"),
            "change_kind": "vanished",
            "value_change": Decimal("-200000.00"),
        },
        {
            "currency": "BTC",
            "prev_slot_start": slot(1),
            "slot_start": slot(2),
            "prev_balance": Decimal("0"),
            "balance": Decimal("1"),
            "change_kind": "appeared",
            "value_change": Decimal("201000.00"),
        },
    ]
    intervals = book.rows(
        "select valid_from, valid_to from balance_intervals where currency = 'BTC'"
        " order by valid_from"
    )
    assert intervals == [
        {"valid_from": slot(0), "valid_to": slot(1)},
        {"valid_from": slot(2), "valid_to": None},
    ]
    # The vanished currency is 0 now: not listed in the latest balances.
    latest = book.rows("select currency from latest_balances order by currency")
    assert [row["currency"] for row in latest] == ["BTC", "ILS"]


def test_failed_poll_between_two_good_ones_is_not_observed(book: Book) -> None:
    book.snapshot(1, 0, {"BTC": ("1", "1", "200000.00")})
    book.attempt(1, 1, "network_error", "connection reset")
    book.snapshot(1, 2, {"BTC": ("1", "1", "200500.00")})
    book.snapshot(1, 3, {"BTC": ("2", "2", "401000.00")})

    pairs = book.rows("select prev_slot_start, slot_start from balance_line_pairs order by 2")
    assert pairs == [
        {"prev_slot_start": slot(0), "slot_start": slot(2)},
        {"prev_slot_start": slot(2), "slot_start": slot(3)},
    ]
    changes = book.rows("select prev_slot_start, prev_balance, balance from balance_changes")
    assert changes == [
        {"prev_slot_start": slot(2), "prev_balance": Decimal("1"), "balance": Decimal("2")}
    ]
    intervals = book.rows("select valid_from, valid_to, observed_snapshots from balance_intervals")
    assert sorted(intervals, key=lambda r: r["valid_from"]) == [
        {"valid_from": slot(0), "valid_to": slot(3), "observed_snapshots": 2},
        {"valid_from": slot(3), "valid_to": None, "observed_snapshots": 1},
    ]


def test_restricted_answer_without_data_observes_status_not_balances(book: Book) -> None:
    book.snapshot(1, 0, {"USD": ("10", "10", "30.00")})
    book.snapshot(1, 1, restricted=True, no_data=True, erp=6)

    assert book.rows("select count(*) as n from balance_changes") == [{"n": 0}]
    latest = book.rows("select slot_start, balance from latest_balances")
    assert latest == [{"slot_start": slot(0), "balance": Decimal("10")}]
    [interval] = book.rows("select valid_to from balance_intervals")
    assert interval["valid_to"] is None
    [cov] = book.rows("select observed_slots, balances_observed_slots from coverage")
    assert cov == {"observed_slots": 2, "balances_observed_slots": 1}


def test_missed_slot_is_carried_forward_in_daily_balances(book: Book) -> None:
    day1, day2, day3 = 0, 24, 48
    book.snapshot(1, day1 + 22, {"EUR": ("10", "10", "35.00")})
    book.snapshot(1, day1 + 23, {"EUR": ("11", "11", "38.50")})
    book.snapshot(1, day2 + 10, {"EUR": ("12", "12", "42.00")})
    book.attempt(1, day2 + 23, "network_error", "timed out")
    # Client 2 keeps the pipeline's clock: it is polled at each day's closing slot.
    book.snapshot(2, day2 + 23, {"ILS": ("5", "5", "5.00")})
    book.snapshot(2, day3 + 5, {"ILS": ("5", "5", "5.00")})

    rows = book.rows(
        "select client_number, day, balance, as_of_slot_start, is_carried"
        " from daily_balances order by client_number, day"
    )
    assert [(r["client_number"], str(r["day"])) for r in rows] == [
        (1, "2026-01-05"),
        (1, "2026-01-06"),
        (1, "2026-01-07"),
        (2, "2026-01-06"),  # nothing invented before client 2's first observation
        (2, "2026-01-07"),
    ]
    one = rows[:3]
    assert [(r["balance"], r["as_of_slot_start"], r["is_carried"]) for r in one] == [
        (Decimal("11"), slot(day1 + 23), False),
        (Decimal("12"), slot(day2 + 10), True),
        (Decimal("12"), slot(day2 + 10), True),
    ]
    assert [r["is_carried"] for r in rows[3:]] == [False, False]


def test_total_off_by_one_cent_is_unreconciled(book: Book) -> None:
    book.snapshot(1, 0, {"ILS": ("100", "100", "100.00"), "USD": ("1", "1", "3.00")})
    book.snapshot(1, 1, {"ILS": ("100", "100", "100.00")}, total="100.01")
    book.snapshot(2, 1, restricted=True, no_data=True)
    book.snapshot(3, 1)  # an empty account

    rows = book.rows(
        "select client_number, slot_start, reported_total, lines_value, difference, is_reconciled"
        " from snapshot_reconciliation order by client_number, slot_start"
    )
    assert [(r["difference"], r["is_reconciled"]) for r in rows] == [
        (Decimal("0.00"), True),
        (Decimal("0.01"), False),
        (None, None),
        (Decimal("0.00"), True),
    ]


def test_status_transition_5_to_6_and_back(book: Book) -> None:
    book.snapshot(1, 0, erp=5)
    book.snapshot(1, 1, erp=5)
    book.snapshot(1, 2, erp=6, restricted=True, no_data=True)
    book.attempt(1, 3, "http_error", "502")
    book.snapshot(1, 4, erp=6, restricted=True, no_data=True)
    book.snapshot(1, 5, erp=5)

    rows = book.rows(
        "select valid_from, valid_to, erp_account_status, is_transition, prev_erp_account_status,"
        " observed_snapshots from account_status_history order by valid_from"
    )
    assert rows == [
        {
            "valid_from": slot(0),
            "valid_to": slot(2),
            "erp_account_status": 5,
            "is_transition": False,
            "prev_erp_account_status": None,
            "observed_snapshots": 2,
        },
        {
            "valid_from": slot(2),
            "valid_to": slot(5),
            "erp_account_status": 6,
            "is_transition": True,
            "prev_erp_account_status": 5,
            "observed_snapshots": 2,
        },
        {
            "valid_from": slot(5),
            "valid_to": None,
            "erp_account_status": 5,
            "is_transition": True,
            "prev_erp_account_status": 6,
            "observed_snapshots": 1,
        },
    ]


def test_negative_balance_is_kept_exact_everywhere(book: Book) -> None:
    book.snapshot(1, 0, {"ILS": ("-13251.50", "-13251.50", "-13251.50")})
    book.snapshot(2, 0, {"ILS": ("1000.25", "1000.25", "1000.25")})
    book.snapshot(1, 1, {"ILS": ("-13000.00", "-13000.00", "-13000.00")})

    [house] = book.rows(
        "select client_count, total_balance, total_negative_balance, total_value_base"
        " from house_totals where slot_start = $s",
        {"s": slot(0)},
    )
    assert house == {
        "client_count": 2,
        "total_balance": Decimal("-12251.25"),
        "total_negative_balance": Decimal("-13251.50"),
        "total_value_base": Decimal("-12251.25"),
    }
    [change] = book.rows("select balance_change, value_change from balance_changes")
    assert change == {"balance_change": Decimal("251.50"), "value_change": Decimal("251.50")}
    [latest] = book.rows("select balance from latest_balances where client_number = 1")
    assert latest["balance"] == Decimal("-13000.00")


def test_injected_outlier_rate_is_flagged_and_dust_is_not(book: Book) -> None:
    book.snapshot(1, 0, {"BTC": ("0.10790961", "0.10790961", "25133.80")})  # 232915.31
    book.snapshot(2, 0, {"BTC": ("1.25", "1.25", "291144.14")})  # 232915.31
    book.snapshot(3, 0, {"BTC": ("0.5", "0.5", "116457.66")})  # 232915.32
    book.snapshot(4, 0, {"BTC": ("0.08", "0.08", "18912.72")})  # 1.5 % above
    book.snapshot(5, 0, {"BTC": ("0.00000001", "0.00000001", "0.00")})  # dust

    rows = book.rows("select client_number, value_deviation from fx_rate_outliers")
    assert [r["client_number"] for r in rows] == [4]
    assert rows[0]["value_deviation"] == Decimal("279.49")  # 18912.72 - round(0.08 x 232915.316, 2)
    [rate] = book.rows("select min_rate, max_rate, client_count from implied_fx_rates")
    assert rate["client_count"] == 4  # the dust line says nothing about the rate
    assert rate["min_rate"] == pytest.approx(232915.31, abs=0.01)


def test_attribution_components_sum_exactly_to_value_change(book: Book) -> None:
    book.snapshot(1, 0, {"BTC": ("1", "1", "100.00"), "ETH": ("3.33333333", "3", "10.01")})
    book.snapshot(1, 1, {"BTC": ("2", "2", "220.00"), "ETH": ("3.33333333", "3", "10.37")})
    book.snapshot(1, 2, {"BTC": ("0.12345678", "0", "28.41")})
    book.snapshot(1, 3, {"BTC": ("-0.5", "-0.5", "-117.07"), "SOL": ("7", "7", "1234.57")})

    rows = book.rows("select * from value_attribution order by slot_start, currency")
    assert len(rows) == 6
    for row in rows:
        parts = row["quantity_effect"] + row["fx_effect"] + row["residual"]
        assert parts == row["value_change"] == row["value_base"] - row["prev_value_base"]
    btc = rows[0]
    assert (btc["quantity_effect"], btc["fx_effect"], btc["residual"]) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("0.00"),
    )
    vanished = next(r for r in rows if r["currency"] == "ETH" and r["slot_start"] == slot(2))
    assert vanished["quantity_effect"] == Decimal("-10.37")
    assert vanished["fx_effect"] == Decimal("0.00")


def test_locked_episodes_end_stay_open_and_flag_stuck_locks(book: Book) -> None:
    for hour in range(30):
        book.snapshot(1, hour, {"USDT": ("100", "95", "300.00")})  # 5 locked, unchanged
    book.attempt(1, 30, "network_error", "refused")
    book.snapshot(1, 31, {"USDT": ("100", "100", "300.00")})  # released
    book.snapshot(1, 32, {"USDT": ("100", "97", "300.00")})  # a new lock, still open
    book.snapshot(1, 33, {"USDT": ("100", "96", "300.00")})

    rows = book.rows(
        "select episode_start, episode_end, is_open, peak_locked, locked_slots,"
        " longest_unchanged_slots, is_stuck from locked_episodes order by episode_start"
    )
    assert rows == [
        {
            "episode_start": slot(0),
            "episode_end": slot(31),
            "is_open": False,
            "peak_locked": Decimal("5"),
            "locked_slots": 30,
            "longest_unchanged_slots": 30,
            "is_stuck": True,
        },
        {
            "episode_start": slot(32),
            "episode_end": None,
            "is_open": True,
            "peak_locked": Decimal("4"),
            "locked_slots": 2,
            "longest_unchanged_slots": 1,
            "is_stuck": False,
        },
    ]
    assert book.rows("select count(*) as n from locked_funds") == [{"n": 32}]


def test_coverage_counts_the_longest_gap_and_fetch_health_the_last_error(book: Book) -> None:
    book.snapshot(1, 0)
    book.attempt(1, 1, "network_error", "refused")
    book.attempt(1, 2, "rate_limited", "429")
    book.attempt(1, 3, "auth_error", "401 wrong password for client 1")
    book.snapshot(1, 4)
    book.attempt(1, 5, "network_error", "refused")
    book.snapshot(1, 6)
    book.snapshot(2, 3)  # starts later: scheduled only from its first attempt

    cov = {r["client_number"]: r for r in book.rows("select * from coverage")}
    assert cov[1]["scheduled_slots"] == 7
    assert cov[1]["observed_slots"] == 3
    assert cov[1]["longest_gap_slots"] == 3
    assert cov[1]["longest_gap_start"] == slot(1)
    assert cov[2]["scheduled_slots"] == 4  # slots 3..6 in which the pipeline polled
    assert cov[2]["longest_gap_slots"] == 3

    [health] = book.rows("select * from fetch_health where client_number = 1")
    assert (health["attempts"], health["successes"], health["failures"]) == (7, 3, 4)
    assert health["last_success_slot"] == slot(6)
    assert health["last_failure_outcome"] == "network_error"
    assert health["last_error"] == "refused"


def test_every_view_returns_rows_on_the_demo_history(demo_db: Path) -> None:
    con = connect(demo_db)
    try:
        counts = {view: con.execute(f"select count(*) from {view}").fetchone()[0] for view in VIEWS}
        stuck = con.execute("select count(*) from locked_episodes where is_stuck").fetchone()[0]
        outliers = con.execute(
            "select distinct client_number, currency from fx_rate_outliers"
        ).fetchall()
        transitions = con.execute(
            "select count(*) from account_status_history where is_transition"
        ).fetchone()[0]
    finally:
        con.close()
    assert all(counts.values()), {view: n for view, n in counts.items() if not n}
    assert stuck >= 1
    assert outliers == [(500613, "ETH")]
    assert transitions >= 1


@pytest.mark.slow
def test_slot_completeness_shows_a_shard_that_missed_its_run(book: Book) -> None:
    # Clients 1, 2 and 3 polled (by shards) in slot 0; in slot 1 client 3's shard did not
    # run, in slot 2 only client 1's did; client 3 was last polled over a day before slot 30,
    # so it is no longer expected there.
    for hours, clients in {0: (1, 2, 3), 1: (1, 2), 2: (1,), 30: (1, 2)}.items():
        for client in clients:
            book.snapshot(client, hours, {"ILS": ("5", "5", "5.00")})
    rows = book.rows(
        "select slot_start, clients_expected, clients_attempted, clients_observed,"
        " clients_missing, is_complete from slot_completeness order by slot_start"
    )
    assert [tuple(r.values()) for r in rows] == [
        (slot(0), 3, 3, 3, 0, True),
        (slot(1), 3, 2, 2, 1, False),
        (slot(2), 3, 1, 1, 2, False),
        (slot(30), 2, 2, 2, 0, True),
    ]
