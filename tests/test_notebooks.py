"""The analytics notebooks: committed without outputs, executed in a real kernel on the demo."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from pipeline.analytics.report import (
    NOTEBOOKS,
    NOTEBOOKS_ROOT,
    execute_notebook,
    render_html,
    write_report,
)


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def _text(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in _outputs(nb) if o.get("output_type") == "stream")


def _pngs(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_have_no_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS_ROOT / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.fixture(scope="module")
def executed(demo_db_template: Path) -> dict[str, nbformat.NotebookNode]:
    # One execution per notebook for the module: each takes a few seconds (kernel start).
    return {name: execute_notebook(name, demo_db_template) for name in NOTEBOOKS}


def test_implied_fx_rates_notebook_charts_rates_and_finds_the_eth_outlier(executed) -> None:
    nb = executed["implied_fx_rates"]
    assert _pngs(nb) >= 1
    text = _text(nb)
    assert "currencies: 7, slots: 48" in text
    assert "outlier lines: " in text and "outlier lines: 0" not in text
    html = "".join(str(o.get("data", {}).get("text/html", "")) for o in _outputs(nb))
    assert "500613" in html and "ETH" in html


def test_client_balances_notebook_picks_the_client_with_status_changes(executed) -> None:
    nb = executed["client_balances"]
    assert _pngs(nb) >= 2
    text = _text(nb)
    assert "client 500609:" in text
    assert "quantity + fx + residual == value change (exact)" in text


def test_reconciliation_notebook_reports_totals_coverage_and_health(executed) -> None:
    nb = executed["reconciliation"]
    assert _pngs(nb) >= 2
    text = _text(nb)
    assert "unreconciled snapshots: 0 of 672" in text
    assert "clients: 14" in text


def test_report_page_is_self_contained(executed) -> None:
    page = render_html(executed["implied_fx_rates"])
    assert "data:image/png;base64," in page
    assert "open_readonly" not in page  # code cells are hidden


def test_report_is_one_self_contained_page_with_every_notebook(
    executed, demo_db_template: Path, tmp_path: Path
) -> None:
    page = write_report(executed, demo_db_template, tmp_path / "report")
    assert page == tmp_path / "report" / "report.html"
    text = page.read_text(encoding="utf-8")
    for nb in executed.values():
        heading = next(c.source for c in nb.cells if c.cell_type == "markdown")
        assert heading.splitlines()[0].lstrip("# ") in text
    assert text.count("data:image/png;base64,") >= sum(_pngs(nb) for nb in executed.values())
    # Nothing to fetch: no script, stylesheet or image from the network.
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', text)


def test_report_command_refuses_a_missing_database(tmp_path: Path, capsys) -> None:
    from pipeline.cli import main

    assert main(["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) == 2
    assert "run `pipeline demo` first" in capsys.readouterr().err
