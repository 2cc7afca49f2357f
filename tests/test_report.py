"""The HTML report: people's formatting, its sections, scope (clients, period) and its errors."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from analytics_data import Book
from backfill import backfill_from_simulator, hourly_slots
from conftest import DEMO_HOURS, DEMO_START
from pg import LakeFixture

from pipeline.analytics.charts import label_rows
from pipeline.analytics.report import build_report
from pipeline.analytics.report_data import ReportError, ReportScope, collect, parse_client
from pipeline.analytics.report_format import Column, number, rate, table
from pipeline.cli import main
from pipeline.simulator import SEED_EXAMPLE_INSTANT
from pipeline.store import connect


def test_numbers_keep_every_decimal_with_thousands_separators() -> None:
    assert number(Decimal("150000000000.12345678"), 8) == "150,000,000,000.12345678"
    assert number(Decimal("-12751"), 2) == "−12,751.00"  # a true minus sign
    assert number(Decimal("0.00000001"), 8) == "0.00000001"
    assert number(None, 2) == "—"
    assert rate(245084.93) == "245,084.9"
    assert rate(0.0000517048812) == "0.00005170488"


def test_tables_have_readable_headers_aligned_figures_and_scroll() -> None:
    frame = pl.DataFrame(
        {
            "currency": ["BTC", "ILS"],
            "balance": [Decimal("1.5"), Decimal("-12751")],
        },
        schema={"currency": pl.String, "balance": pl.Decimal(38, 8)},
    )
    html = table(
        frame,
        (Column("currency", "Currency"), Column("balance", "Balance", "quantity")),
        decimals={"BTC": 8, "ILS": 2},
    )
    assert html.startswith('<div class="table-wrap">')  # wide tables scroll, never cut
    assert '<th class="num" scope="col">Balance</th>' in html
    assert '<td class="num">1.50000000</td>' in html  # BTC to 8 decimals
    assert '<td class="num neg">−12,751.00</td>' in html  # ILS to 2
    assert '<td class="txt">BTC</td>' in html  # not "BTC"
    assert table(frame.clear(), (Column("currency", "Currency"),), empty="none") == (
        '<p class="empty">none</p>'
    )


def test_status_labels_that_would_touch_go_to_another_row() -> None:
    # Labels 10 wide at 0, 5, 12, 30: the second touches the first, the third only the second.
    assert label_rows([0, 5, 12, 30], [10, 10, 10, 10]) == [0, 1, 0, 0]
    assert label_rows([0, 1, 2], [10, 10, 10]) == [0, 1, 2]
    assert label_rows([20, 0], [5, 5]) == [0, 0]  # placed from left to right, whatever the order


def test_a_client_must_be_a_number() -> None:
    assert parse_client(" 500609 ", "--client") == 500609
    with pytest.raises(ReportError, match=r"^PIPELINE_CLIENT='abc' is not a client number"):
        parse_client("abc", "PIPELINE_CLIENT")


class _Tags(HTMLParser):
    """Every tag's name and attributes, to check what a page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def page(demo_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report")
    return build_report(demo_db_template, out).read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_is_self_contained(page: str) -> None:
    parser = _Tags()
    parser.feed(page)
    loads = [
        value
        for _, attrs in parser.tags
        for key, value in attrs.items()
        if key in {"src", "href"} and value
    ]
    assert all(v.startswith(("#", "data:")) for v in loads), loads
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts and not any("src" in attrs for attrs in scripts)
    assert page.count("Plotly.newPlot") >= 7
    assert page.count('define("plotly"') <= 1 and page.count("plotly.js v") == 1  # JS once


def test_report_has_every_section_and_no_polars_printout(page: str) -> None:
    for section in ("summary", "house", "fx", "clients", "attribution", "reconciliation"):
        assert f'data-section="{section}"' in page
    assert 'data-section="coverage"' in page
    for chart in ("house-value-ILS", "house-holdings", "fx-rates-ILS", "client-500609",
                  "attribution-ILS", "coverage", "fetch-outcomes"):  # fmt: skip
        assert f'data-chart="{chart}"' in page
    assert "data:image/png;base64," in page  # the house chart's static twin, for print
    assert "shape: (" not in page and "decimal[38" not in page and "&quot;ETH&quot;" not in page
    assert "ERP 5\\u21926" in page  # status changes are labelled (plotly escapes the arrow)


def test_report_shows_each_currency_with_its_own_decimals(
    demo_db_template: Path, page: str
) -> None:
    data = collect(demo_db_template, ReportScope())
    assert data.decimals["BTC"] == 8 and data.decimals["ILS"] == 2 and data.decimals["PEPE"] == 8
    pepe = data.house.filter(pl.col("currency") == "PEPE").sort("slot_start")["total_balance"][-1]
    assert number(pepe, 8) in page  # 12 integer digits and 8 decimals, exactly


def test_report_scope_cuts_the_period_and_picks_the_clients(demo_db_template: Path) -> None:
    start = DEMO_START + timedelta(hours=10)
    end = DEMO_START + timedelta(hours=19)
    data = collect(demo_db_template, ReportScope(start=start, end=end, clients=(500613, 500602)))
    assert data.overview["slots"] == 10
    assert data.house["slot_start"].min() == start and data.house["slot_start"].max() == end
    assert [c.client_number for c in data.clients] == [500613, 500602]
    assert data.clients[0].lines["slot_start"].n_unique() == 10
    # Coverage describes the period only.
    assert data.coverage["scheduled_slots"].max() == 10
    # Everything, by default: all slots and the most eventful client.
    full = collect(demo_db_template, ReportScope())
    assert full.overview["slots"] == DEMO_HOURS
    assert [c.client_number for c in full.clients] == [500609]


def test_report_command_refuses_a_client_that_is_not_a_number(
    demo_db_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("PIPELINE_CLIENT", "abc")
    argv = ["report", "--db", str(demo_db_template), "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "pipeline report: PIPELINE_CLIENT='abc' is not a client number (digits, e.g. 500609)"
    ]
    assert not (tmp_path / "report.html").exists()


def test_report_command_refuses_an_unknown_client_in_one_line(
    demo_db_template: Path, tmp_path: Path, capsys
) -> None:
    argv = ["report", "--db", str(demo_db_template), "--out", str(tmp_path), "--client", "999"]
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("pipeline report: client 999 has no snapshot in this period;")
    assert "500609" in err[0]


def test_report_command_refuses_a_period_that_ends_before_it_starts(
    demo_db_template: Path, tmp_path: Path, capsys
) -> None:
    argv = ["report", "--db", str(demo_db_template), "--out", str(tmp_path),
            "--from", "2026-11-02T00:00Z", "--to", "2026-11-01T00:00Z"]  # fmt: skip
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        "pipeline report: --from 2026-11-02 00:00 is after --to 2026-11-01 00:00"
    ]


def test_report_command_renders_the_selected_clients_and_period(
    demo_db_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("PIPELINE_CLIENT", "500601")  # --client wins over the environment
    start = (DEMO_START + timedelta(hours=24)).isoformat()
    argv = ["report", "--db", str(demo_db_template), "--out", str(tmp_path),
            "--client", "500613", "--client", "500606", "--from", start]  # fmt: skip
    assert main(argv) == 0
    assert capsys.readouterr().out == f"report: {(tmp_path / 'report.html').resolve()}\n"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'data-client="500613"' in page and 'data-client="500606"' in page
    assert 'data-client="500601"' not in page
    assert "(24 slots)" in page


@pytest.mark.slow
def test_report_of_a_single_slot_says_there_is_not_enough_history(tmp_path: Path) -> None:
    db = tmp_path / "one.duckdb"
    backfill_from_simulator(db, hourly_slots(SEED_EXAMPLE_INSTANT, 1))
    assert main(["report", "--db", str(db), "--out", str(tmp_path)]) == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('class="not-enough"') >= 4
    assert "Not enough history yet for this chart: 1 slot in the period" in page
    assert re.search(r'data-chart="house-value-ILS"[^>]*>Not enough history', page)
    markup = re.sub(r"<script.*?</script>", "", page, flags=re.DOTALL)  # plotly.js says "Warning"
    assert "Traceback" not in markup and "Warning" not in markup


def test_report_of_an_empty_database_renders_every_section(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    connect(db).close()
    page = build_report(db, tmp_path).read_text(encoding="utf-8")
    assert page.count("<section") == 7
    assert "No client has a snapshot in this period." in page


def test_report_command_refuses_a_missing_database(tmp_path: Path, capsys) -> None:
    assert main(["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) == 2
    assert "run `pipeline demo` first" in capsys.readouterr().err


@pytest.mark.slow
def test_report_command_reads_a_lake(lake: LakeFixture, tmp_path: Path, capsys) -> None:
    con = connect(lake.url, lake_data_path=str(lake.data_path))
    book = Book(con)
    for hour in range(3):
        book.snapshot(7, hour, {"BTC": ("2", str(400_000 + hour), "1.5")})
        book.snapshot(8, hour, {"USD": ("10", "36.50", "10")})
    book.refresh()
    con.close()
    # The lake's URL is no file: the command must not send the user to `pipeline demo`.
    assert main(["report", "--db", lake.url, "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"report: {(tmp_path / 'report.html').resolve()}\n"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'data-client="7"' in page and "(3 slots)" in page
