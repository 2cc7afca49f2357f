"""Analyst queries (sql/queries) on crafted rows, and the `pipeline query` command."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from analytics_data import Book, slot

from pipeline.analytics.queries import QueryError, list_queries, load_query, run_query
from pipeline.cli import main
from pipeline.store import connect

QUERIES = {
    "balances_as_of",
    "client_history",
    "client_statement",
    "coverage",
    "daily_balances",
    "fetch_health",
    "house_balance_as_of",
    "house_exposure",
    "implied_rate_history",
    "largest_locked",
    "latest_balances",
}


@pytest.fixture
def crafted(tmp_path: Path) -> Path:
    """Three clients over four slots: a vanishing currency, a failed poll, an outlier, locks."""
    path = tmp_path / "crafted.duckdb"
    book = Book.create(path)
    book.snapshot(1, 0, {"BTC": ("1", "0.5", "200000.00"), "ILS": ("10", "10", "10.00")})
    book.snapshot(1, 1, {"ILS": ("10", "10", "10.00")})
    book.attempt(1, 2, "network_error", "refused")
    book.snapshot(1, 3, {"BTC": ("2", "2", "404000.00"), "ILS": ("10", "10", "10.00")})
    book.snapshot(2, 0, {"BTC": ("0.5", "0.25", "100000.00")})
    book.snapshot(2, 1, {"BTC": ("0.5", "0.25", "101000.00")})
    book.snapshot(2, 2, restricted=True, no_data=True, erp=6)
    book.snapshot(3, 0, {"BTC": ("0.25", "0.25", "50000.00")})
    book.snapshot(3, 1, {"BTC": ("0.25", "0.25", "51000.00")})  # 204000: the outlier
    book.snapshot(3, 3, {"USDT": ("7500", "0", "22500.00")})
    book.snapshot(4, 1, {"BTC": ("1", "1", "202000.00")})
    book.con.close()
    return path


def _run(path: Path, name: str, **params: str) -> list[dict]:
    con = connect(path, read_only=True)
    try:
        return run_query(con, name, params).to_dicts()
    finally:
        con.close()


def test_every_query_declares_its_parameters() -> None:
    queries = {q.name: q for q in list_queries()}
    assert set(queries) == QUERIES
    assert all(q.description for q in queries.values())
    assert [p.name for p in queries["client_history"].params] == [
        "client_number",
        "since",
        "until",
    ]
    assert queries["client_history"].params[0].required
    assert queries["largest_locked"].params[0].default == "20"


def test_client_history_shows_a_vanished_currency_as_zero_and_skips_failed_polls(
    crafted: Path,
) -> None:
    rows = _run(crafted, "client_history", client_number="1")
    btc = [
        (r["slot_start"], r["balance"], r["balance_change"]) for r in rows if r["currency"] == "BTC"
    ]
    assert btc == [
        (slot(0), Decimal("1"), None),
        (slot(1), Decimal("0"), Decimal("-1")),
        (slot(3), Decimal("2"), Decimal("2")),
    ]
    since = _run(crafted, "client_history", client_number="1", since="2026-01-05T03:00:00Z")
    assert {r["slot_start"] for r in since} == {slot(3)}


def test_implied_rate_history_counts_outliers(crafted: Path) -> None:
    rows = _run(crafted, "implied_rate_history", currency="btc")
    by_slot = {r["slot_start"]: r for r in rows}
    assert by_slot[slot(1)]["client_count"] == 3
    assert by_slot[slot(1)]["median_rate"] == pytest.approx(202000)
    assert by_slot[slot(1)]["outliers"] == 1
    assert by_slot[slot(0)]["outliers"] == 0


def test_balances_as_of_takes_each_clients_newest_observation_before_the_instant(
    crafted: Path,
) -> None:
    rows = _run(crafted, "balances_as_of", as_of="2026-01-05T02:30:00Z")
    got = {
        (r["client_number"], r["currency"]): (r["as_of_slot_start"], r["age_hours"]) for r in rows
    }
    assert got == {
        (1, "ILS"): (slot(1), 1.5),
        # client 2's restricted answer without Data at 02:00 says nothing about its balances
        (2, "BTC"): (slot(1), 1.5),
        (3, "BTC"): (slot(1), 1.5),
        (4, "BTC"): (slot(1), 1.5),
    }
    assert _run(crafted, "balances_as_of", as_of="2026-01-04T00:00:00Z") == []


def test_largest_locked_ranks_by_value_now(crafted: Path) -> None:
    rows = _run(crafted, "largest_locked", limit="5")
    assert [(r["client_number"], r["currency"], r["locked_value_base"]) for r in rows] == [
        (3, "USDT", Decimal("22500.00")),
        (2, "BTC", Decimal("50500.00")),
    ][::-1]
    assert len(_run(crafted, "largest_locked", limit="1")) == 1


def test_house_exposure_filters_one_currency(crafted: Path) -> None:
    rows = _run(crafted, "house_exposure", currency="BTC")
    assert {r["currency"] for r in rows} == {"BTC"}
    at1 = next(r for r in rows if r["slot_start"] == slot(1))
    assert at1["client_count"] == 3
    assert at1["total_balance"] == Decimal("1.75")
    assert at1["total_value_base"] == Decimal("354000.00")
    assert len(_run(crafted, "house_exposure")) > len(rows)


def test_bad_names_and_parameters_say_what_is_expected() -> None:
    with pytest.raises(QueryError, match="known queries: balances_as_of"):
        load_query("nope")
    with pytest.raises(QueryError, match="needs --param client_number=<BIGINT>"):
        from pipeline.analytics.queries import bind

        bind(load_query("client_history"), {})
    with pytest.raises(QueryError, match="not a valid TIMESTAMPTZ"):
        bind(load_query("balances_as_of"), {"as_of": "yesterday"})
    with pytest.raises(QueryError, match="has no parameter colour"):
        bind(load_query("largest_locked"), {"colour": "red"})


def test_cli_lists_queries_with_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    for name in QUERIES:
        assert name in out
    assert "--param as_of=<TIMESTAMPTZ>" in out


def test_cli_query_writes_exact_json_csv_and_parquet(
    crafted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["query", "client_history", "--db", str(crafted), "--param", "client_number=2"]
    assert main([*args, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["balance"] == "0.50000000"  # decimals stay exact text
    assert main([*args, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("client_number,slot_start,currency")
    assert main([*args, "--format", "parquet"]) == 2
    out = tmp_path / "h.parquet"
    assert main([*args, "--format", "parquet", "--out", str(out)]) == 0
    assert pl.read_parquet(out)["balance"].to_list() == [Decimal("0.5"), Decimal("0.5")]
    assert main([*args, "--format", "table"]) == 0
    assert "client_number" in capsys.readouterr().out


def test_cli_query_reports_missing_parameters_and_databases(
    crafted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "client_history", "--db", str(crafted)]) == 2
    assert "needs --param client_number" in capsys.readouterr().err
    assert main(["query", "largest_locked", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "run `pipeline demo` first" in capsys.readouterr().err


def test_cli_query_works_on_a_file_written_before_the_views_existed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import duckdb

    from pipeline.store.sqlfiles import load_sql

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(load_sql("ddl/001_tables"))  # tables only, as an older pipeline left them
    con.close()
    assert main(["query", "largest_locked", "--db", str(path), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("client_number,currency")
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("select count(*) from duckdb_views() where not internal").fetchone() == (0,)
    con.close()
