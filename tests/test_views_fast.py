"""The derived facts behind the views: whatever the order of writes, refreshes, replacements and
compactions, every view and query returns exactly what its original window definition
(tests/reference_sql, run on a copy of the same tables) returns."""

from __future__ import annotations

import random
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from analytics_data import Book, slot

from pipeline.analytics.queries import bind, parse_query
from pipeline.analytics.readonly import open_readonly
from pipeline.store import connect
from pipeline.store.derived import (
    DERIVED_TABLES,
    compact_range,
    compaction_periods,
    rebuild_derived,
    refresh_attempt_facts,
    refresh_derived,
)
from pipeline.store.sqlfiles import load_sql, sql_names

REFERENCE = Path(__file__).parent / "reference_sql"
# The views rewritten over derived facts, each with its original window definition.
VIEWS = [
    name.split("/")[1].split("_", 1)[1]
    for name in sql_names("views")
    if (REFERENCE / "views" / f"{name.split('/')[1]}.sql").exists()
]
BASE_TABLES = ["balance_snapshots", "balance_lines", "fetch_attempts"]


def _reference(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """An in-memory copy of the base tables with the original (window) views over them."""
    ref = duckdb.connect()
    ref.execute("set TimeZone = 'UTC'")
    for table in BASE_TABLES:
        ref.register("incoming", con.sql(f"select * from {table}").to_arrow_table())
        ref.execute(f"create table {table} as select * from incoming")
        ref.unregister("incoming")
    for path in sorted((REFERENCE / "views").glob("*.sql")):
        ref.execute(path.read_text(encoding="utf-8"))
    return ref


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[tuple]:
    return sorted(con.execute(sql, params or {}).fetchall(), key=repr)


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"describe {view}").fetchall()]


def _query_cases(con: duckdb.DuckDBPyConnection) -> list[tuple[str, dict[str, str]]]:
    clients = [
        r[0] for r in con.execute("select distinct client_number from balance_snapshots").fetchall()
    ]
    slots = [
        r[0] for r in con.execute("select distinct slot_start from balance_snapshots").fetchall()
    ]
    cases: list[tuple[str, dict[str, str]]] = [
        ("house_exposure", {}),
        ("house_exposure", {"currency": "btc"}),
        ("largest_locked", {"limit": "50"}),
    ]
    cases += [("client_history", {"client_number": str(c)}) for c in clients]
    cases += [
        ("client_history", {"client_number": str(c), "since": s.isoformat()})
        for c, s in zip(clients, sorted(slots)[1:], strict=False)
    ]
    cases += [("implied_rate_history", {"currency": c}) for c in ("BTC", "ILS", "USD", "ETH")]
    instants = [min(slots) - timedelta(hours=1)] + [s + timedelta(minutes=30) for s in slots]
    cases += [("balances_as_of", {"as_of": i.isoformat()}) for i in instants[::6]]
    return cases


def assert_views_match_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Every view and query on `con` equals its original definition on a copy of the tables."""
    ref = _reference(con)
    try:
        for view in VIEWS:
            assert _columns(con, view) == _columns(ref, view), view
            assert _rows(con, f"select * from {view}") == _rows(ref, f"select * from {view}"), view
        for name, values in _query_cases(con):
            query = parse_query(name, load_sql(f"queries/{name}"))
            original = parse_query(
                name, (REFERENCE / "queries" / f"{name}.sql").read_text(encoding="utf-8")
            )
            params = bind(query, values)
            assert _rows(con, query.sql, params) == _rows(ref, original.sql, params), (name, values)
    finally:
        ref.close()


# The tail tables hold a row per refresh and client: only each client's newest one is its state.
_CURRENT = {
    "derived_client_tail": (
        "select * from derived_client_tail"
        " qualify slot_start = max(slot_start) over (partition by client_number)"
    ),
    "derived_line_tail": (
        "select * from derived_line_tail"
        " qualify tail_slot = max(tail_slot) over (partition by client_number)"
    ),
}


def _derived_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        table: _rows(con, _CURRENT.get(table, f"select * from {table}")) for table in DERIVED_TABLES
    }


class RandomBook:
    """A seeded history of a few clients: balances that mostly stay, locks that come and go,
    currencies that vanish and return, empty accounts, restricted answers, failed and retried
    polls and status changes, over two UTC days."""

    def __init__(self, seed: int, clients: int = 3, hours: int = 40) -> None:
        self.rng = random.Random(seed)
        self.events: list[tuple[int, int, dict]] = []
        for client in range(1, clients + 1):
            self._client(client, hours)

    def _client(self, client: int, hours: int) -> None:
        rng = self.rng
        base = "USD" if client % 3 == 0 else "ILS"
        holdings: dict[str, tuple[Decimal, Decimal]] = {}
        erp = 5
        for hour in range(rng.randrange(0, 6), hours):
            roll = rng.random()
            if roll < 0.12:
                continue  # not polled in this slot
            if roll < 0.22:
                self.events.append((hour, client, {"failed": True}))
                continue
            if rng.random() < 0.05:
                erp = 6 if erp == 5 else 5
            if roll < 0.30:
                self.events.append((hour, client, {"restricted": True, "erp": erp}))
                continue
            for currency in ("ILS", "USD", "BTC", "ETH"):
                if currency not in holdings:
                    if rng.random() < 0.3:
                        holdings[currency] = (self._amount(), Decimal(0))
                    continue
                if rng.random() < 0.1:
                    del holdings[currency]  # vanishes from Data
                    continue
                balance, locked = holdings[currency]
                if rng.random() < 0.25:
                    balance = self._amount()
                if rng.random() < 0.2:
                    locked = rng.choice([Decimal(0), Decimal(0), Decimal("0.5"), Decimal("2")])
                holdings[currency] = (balance, locked)
            lines = {
                currency: self._line(currency, base, balance, locked, hour)
                for currency, (balance, locked) in holdings.items()
            }
            retried = rng.random() < 0.1  # an earlier attempt in the slot failed
            self.events.append(
                (hour, client, {"lines": lines, "erp": erp, "base": base, "retried": retried})
            )

    def _amount(self) -> Decimal:
        rng = self.rng
        fresh = Decimal(rng.randrange(1, 10**6)) / 1000
        dust = Decimal("0.00000001")  # worth 0.00: no rate to speak of
        return rng.choice([Decimal(0), Decimal("1"), Decimal("2.5"), Decimal("-3"), dust, fresh])

    def _line(
        self, currency: str, base: str, balance: Decimal, locked: Decimal, hour: int
    ) -> tuple[str, str, str]:
        price = {"ILS": 1.0, "USD": 3.7, "BTC": 231234.5, "ETH": 11800.25}
        rate = price[currency] / price[base] * (1 + hour / 1000)
        if self.rng.random() < 0.03:
            rate *= 1.02  # an outlier
        value = (Decimal(str(float(balance) * rate))).quantize(Decimal("0.01"))
        return str(balance), str(balance - locked), str(value)

    def write(self, book: Book, order: list[tuple[int, int, dict]], flush_every: int) -> None:
        """Write the events in this order, refreshing every `flush_every` events (0: at the end),
        each batch in one transaction, as a round or a replay batch writes."""
        step = flush_every or len(order) or 1
        for start in range(0, len(order), step):
            book._con.execute("begin")
            for hour, client, event in order[start : start + step]:
                if event.get("failed"):
                    book.attempt(client, hour, "network_error", "refused")
                elif event.get("restricted"):
                    book.snapshot(client, hour, restricted=True, no_data=True, erp=event["erp"])
                else:
                    book.snapshot(
                        client, hour, event["lines"], erp=event["erp"], base=event["base"]
                    )
                if event.get("retried"):
                    book._con.execute(
                        "insert into fetch_attempts values ('retry', $slot, $client, 1,"
                        " $slot - interval 1 minute, 9.5, 503, 4, 'http_error', '503', null)",
                        {"slot": slot(hour), "client": client},
                    )
            _ = book.con  # refresh what the batch wrote
            book._con.execute("commit")


@pytest.fixture
def book(tmp_path: Path) -> Book:
    book = Book.create(tmp_path / "random.duckdb")
    yield book
    book.con.close()


@pytest.mark.slow
def test_views_match_their_window_definitions_when_written_in_slot_order(book: Book) -> None:
    history = RandomBook(seed=1)
    history.write(book, sorted(history.events, key=lambda e: (e[0], e[1])), flush_every=25)
    assert_views_match_reference(book.con)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_views_match_their_window_definitions_whatever_the_write_order(
    book: Book, seed: int
) -> None:
    history = RandomBook(seed=seed)
    order = list(history.events)
    random.Random(seed).shuffle(order)  # late answers, backfills, clients out of step
    history.write(book, order, flush_every=seed * 5)
    assert_views_match_reference(book.con)


@pytest.mark.slow
def test_refreshing_again_or_rebuilding_changes_no_derived_row(book: Book) -> None:
    history = RandomBook(seed=5, clients=2, hours=30)
    order = list(history.events)
    random.Random(5).shuffle(order)
    history.write(book, order, flush_every=20)
    con = book.con
    before = _derived_rows(con)
    refresh_derived(con, slot(10), slot(20))
    refresh_derived(con)
    assert _derived_rows(con) == before
    rebuild_derived(con, batch_snapshots=7)
    assert _derived_rows(con) == before


def test_attempts_alone_refresh_their_own_facts_and_a_complete_range_writes_nothing(
    book: Book,
) -> None:
    history = RandomBook(seed=5, clients=2, hours=12)
    history.write(book, list(history.events), flush_every=20)
    con = book.con
    before = _derived_rows(con)
    # Nothing landed since the last refresh: nothing to rewrite (a re-run of complete slots).
    assert refresh_attempt_facts(con, slot(0), slot(40)) is False
    assert _derived_rows(con) == before
    # Attempts landed without a refresh, as Store.land writes them: a round in which every
    # client failed, and another attempt at a slot that already has a snapshot.
    observed = con.execute("select min(slot_start) from balance_snapshots").fetchone()[0]
    for hour, client in ((35, 1), (35, 2), ((observed - slot(0)).total_seconds() / 3600, 1)):
        con.execute(
            "insert into fetch_attempts values ('later', $slot, $client, 7, $slot, 1.0, 503,"
            " null, 'http_error', '503', null)",
            {"slot": slot(hour), "client": client},
        )
    assert refresh_attempt_facts(con, slot(0), slot(40)) is True
    after = _derived_rows(con)
    assert after != before
    assert [row for row in after["derived_polled_slots"] if row[0] == slot(35)] == [(slot(35),)]
    rebuild_derived(con, batch_snapshots=7)
    assert _derived_rows(con) == after
    assert refresh_attempt_facts(con, slot(0), slot(40)) is False


@pytest.mark.slow
def test_a_replay_in_batches_leaves_every_derived_row_as_it_was(book: Book) -> None:
    history = RandomBook(seed=9, clients=2, hours=30)
    history.write(book, sorted(history.events, key=lambda e: (e[0], e[1])), flush_every=15)
    con = book.con
    before = _derived_rows(con)
    # as replay calls it: batches in slot order, the last one carrying the state on
    refresh_derived(con, slot(3), slot(11), propagate=False)
    refresh_derived(con, slot(11), slot(19), propagate=False)
    refresh_derived(con, slot(19), slot(24))
    assert _derived_rows(con) == before
    assert_views_match_reference(con)


def test_a_replaced_snapshot_in_the_past_renumbers_the_later_intervals(book: Book) -> None:
    for hour in range(8):
        book.snapshot(1, hour, {"BTC": ("1", "1", "200000.00"), "USD": ("5", "4", "18.50")})
    book.snapshot(2, 3, {"ILS": ("7", "7", "7.00")})
    con = book.con
    # As a replay after a normalization fix would: at slot 2, BTC now has another balance and a
    # lock, and USD is gone.
    con.execute(
        "delete from balance_lines where client_number = 1 and slot_start = $s", {"s": slot(2)}
    )
    con.execute(
        "insert into balance_lines select client_number, slot_start, 'BTC', snapshot_id,"
        " observed_at, base_currency, 3, 600000.00, 1, 2, 200000.0 from balance_snapshots"
        " where client_number = 1 and slot_start = $s",
        {"s": slot(2)},
    )
    refresh_derived(con, slot(2), slot(3))
    intervals = con.execute(
        "select interval_number, valid_from, valid_to from balance_intervals"
        " where client_number = 1 and currency = 'BTC' order by valid_from"
    ).fetchall()
    assert intervals == [(1, slot(0), slot(2)), (2, slot(2), slot(3)), (3, slot(3), None)]
    assert_views_match_reference(con)


@pytest.mark.slow
def test_a_snapshot_removed_in_the_past_rejoins_its_neighbours(book: Book) -> None:
    history = RandomBook(seed=6, clients=2, hours=26)
    history.write(book, sorted(history.events, key=lambda e: (e[0], e[1])), flush_every=0)
    con = book.con
    # A replay that no longer finds a snapshot in two slots (their bodies now fail to parse).
    for hour in (7, 8, 15):
        for table in ("balance_lines", "balance_snapshots"):
            con.execute(f"delete from {table} where slot_start = $s", {"s": slot(hour)})
        refresh_derived(con, slot(hour), slot(hour + 1))
    assert_views_match_reference(con)


@pytest.mark.slow
def test_compacted_periods_keep_every_view_and_later_writes_continue(book: Book) -> None:
    history = RandomBook(seed=7, clients=3, hours=40)
    early = [e for e in history.events if e[0] < 28]
    late = [e for e in history.events if e[0] >= 28]
    history.write(book, sorted(early, key=lambda e: (e[0], e[1])), flush_every=20)
    con = book.con
    con.execute("begin")
    compact_range(con, slot(0), slot(24))
    con.execute("commit")
    assert_views_match_reference(con)
    history.write(book, sorted(late, key=lambda e: (e[0], e[1])), flush_every=10)
    # late answers inside the compacted day: a client backfilled, another one's missed slot
    polled = {(hour, client) for hour, client, _ in history.events}
    missed = next(h for h in range(6, 24) if (h, 1) not in polled)
    book.snapshot(1, missed, {"ETH": ("4", "3", "47201.00")})
    book.snapshot(9, 5, {"BTC": ("1", "0", "231234.50")})
    book.snapshot(9, 6, {"BTC": ("1", "0", "231450.00")})
    assert_views_match_reference(book.con)


@pytest.mark.slow
def test_a_file_without_derived_rows_is_readable_and_migrated(tmp_path: Path) -> None:
    written = tmp_path / "written.duckdb"
    book = Book.create(written)
    history = RandomBook(seed=8, clients=2, hours=26)
    history.write(book, sorted(history.events, key=lambda e: (e[0], e[1])), flush_every=0)
    con = book._con  # written as a release without derived tables (schema 2) left it
    for table in DERIVED_TABLES:
        con.execute(f"drop table {table}")
    # ... and at its version: the derived migration and every later one not applied yet.
    con.execute(
        "delete from schema_version"
        " where version >= (select version from schema_version where name = 'derived')"
    )
    con.close()
    path = tmp_path / "old.duckdb"  # a file this process has not opened yet
    shutil.copy(written, path)

    reader = open_readonly(path)
    try:
        assert_views_match_reference(reader)
    finally:
        reader.close()
    writer = connect(path)  # the first writer builds them for good
    try:
        assert writer.execute("select count(*) from derived_line_pairs").fetchall()[0][0] > 0
        assert_views_match_reference(writer)
    finally:
        writer.close()


def test_closed_weeks_then_closed_days_are_compacted_and_today_is_not() -> None:
    monday = slot(0)  # 2026-01-05, a Monday
    wednesday_noon = monday + timedelta(days=16, hours=12)
    assert compaction_periods(monday + timedelta(hours=5), wednesday_noon) == [
        (monday, monday + timedelta(days=7)),
        (monday + timedelta(days=7), monday + timedelta(days=14)),
        (monday + timedelta(days=14), monday + timedelta(days=15)),
        (monday + timedelta(days=15), monday + timedelta(days=16)),
    ]
    # on a Monday the week before is still kept by day, so the last 24 hours are too
    next_monday = monday + timedelta(days=14, hours=3)
    assert compaction_periods(monday, next_monday)[-1] == (
        monday + timedelta(days=13),
        monday + timedelta(days=14),
    )
