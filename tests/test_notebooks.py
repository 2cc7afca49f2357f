"""The analytics notebooks: text sources (jupytext percent scripts) paired with committed,
output-free .ipynb files, executed once per test run in a real kernel on the demo database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest

from pipeline.analytics.report_notebooks import (
    NOTEBOOKS,
    NOTEBOOKS_ROOT,
    execute_notebooks,
    notebook_db_path,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "notebooks"
PLOTLY = "application/vnd.plotly.v1+json"


def notebook_drift(script: Path, notebook: Path) -> list[str]:
    """How the committed notebook differs from its percent-script source (empty: in step)."""
    source = jupytext.read(script)
    committed = nbformat.read(notebook, as_version=4)
    want = [(c.cell_type, c.source) for c in source.cells]
    have = [(c.cell_type, c.source) for c in committed.cells]
    problems = []
    if len(want) != len(have):
        problems.append(f"{notebook.name}: {len(have)} cells, its source has {len(want)}")
    for index, (w, h) in enumerate(zip(want, have, strict=False)):
        if w != h:
            problems.append(f"{notebook.name}: cell {index} differs from {script.name}")
    return problems


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def _text(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in _outputs(nb) if o.get("output_type") == "stream")


def _html(nb: nbformat.NotebookNode) -> str:
    return "".join(str(o.get("data", {}).get("text/html", "")) for o in _outputs(nb))


def _figures(nb: nbformat.NotebookNode) -> int:
    return sum(PLOTLY in o.get("data", {}) for o in _outputs(nb))


def test_every_notebook_has_a_text_source_and_a_paired_ipynb() -> None:
    assert sorted(p.stem for p in SOURCES.glob("*.py")) == sorted(NOTEBOOKS)
    assert sorted(p.stem for p in SOURCES.glob("*.ipynb")) == sorted(NOTEBOOKS)
    # The package ships the same folder (pipeline/notebooks links to it).
    assert all((NOTEBOOKS_ROOT / f"{name}.py").is_file() for name in NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_matches_its_source(name: str) -> None:
    drift = notebook_drift(SOURCES / f"{name}.py", SOURCES / f"{name}.ipynb")
    assert drift == [], f"run `uv run jupytext --sync notebooks/*.py`: {drift}"


def test_the_sync_check_catches_a_notebook_edited_apart_from_its_source(tmp_path: Path) -> None:
    name = NOTEBOOKS[0]
    script = shutil.copy(SOURCES / f"{name}.py", tmp_path / f"{name}.py")
    notebook = tmp_path / f"{name}.ipynb"
    nb = json.loads((SOURCES / f"{name}.ipynb").read_text(encoding="utf-8"))
    nb["cells"][1]["source"].append("\nprint('edited in Jupyter only')")
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    assert notebook_drift(Path(script), notebook) == [
        f"{name}.ipynb: cell 1 differs from {name}.py"
    ]
    # ... and a cell added to the source only.
    shutil.copy(SOURCES / f"{name}.ipynb", notebook)
    Path(script).write_text(
        Path(script).read_text(encoding="utf-8") + "\n# %%\nprint('new')\n", encoding="utf-8"
    )
    assert any("cells, its source has" in p for p in notebook_drift(Path(script), notebook))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_have_no_outputs(name: str) -> None:
    nb = nbformat.read(SOURCES / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_notebooks_read_settings_only_through_pipeline_settings() -> None:
    for script in SOURCES.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        assert "os.environ" not in text and "getenv" not in text, script.name
        assert "notebook_db_path()" in text, script.name  # Settings.from_env().db_path


def test_notebooks_do_not_hold_the_database_open() -> None:
    # A kernel lives long: it reads in a `with reading(...)` block and lets go of the file, so
    # the schedule's writer is never kept out by an idle notebook.
    for script in SOURCES.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        assert "with reading(DB) as con:" in text, script.name
        for opener in ("open_period(", "open_readonly(", "duckdb.connect(", "connect("):
            assert opener not in text, (script.name, opener)


def test_a_relative_database_path_is_taken_from_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Jupyter starts a notebook's kernel in notebooks/, but PIPELINE_DB is relative to the root.
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setenv("PIPELINE_DB", "data/x.duckdb")
    assert notebook_db_path(tmp_path / "notebooks") == tmp_path / "data" / "x.duckdb"
    monkeypatch.setenv("PIPELINE_DB", str(tmp_path / "abs.duckdb"))
    assert notebook_db_path(tmp_path / "notebooks") == tmp_path / "abs.duckdb"


@pytest.fixture(scope="session")
def executed(demo_db_template: Path) -> dict[str, nbformat.NotebookNode]:
    # Each notebook runs once per test run, all three kernels at once (a kernel start costs
    # seconds); the tests below share the results.
    return execute_notebooks(NOTEBOOKS, demo_db_template)


@pytest.mark.slow
def test_implied_fx_rates_notebook_charts_rates_and_finds_the_eth_outlier(executed) -> None:
    nb = executed["implied_fx_rates"]
    assert _figures(nb) >= 1
    text = _text(nb)
    assert "currencies: 7, slots: 48" in text
    assert "outlier lines: " in text and "outlier lines: 0" not in text
    html = _html(nb)
    assert "500613" in html and "ETH" in html


@pytest.mark.slow
def test_client_balances_notebook_picks_the_client_with_status_changes(executed) -> None:
    nb = executed["client_balances"]
    assert _figures(nb) >= 2
    text = _text(nb)
    assert "client 500609:" in text
    assert "quantity + fx + residual == value change (exact)" in text
    figures = [o for o in _outputs(nb) if PLOTLY in o.get("data", {})]
    assert "ERP 5→6" in json.dumps(figures, ensure_ascii=False)


@pytest.mark.slow
def test_reconciliation_notebook_reports_totals_coverage_and_health(executed) -> None:
    nb = executed["reconciliation"]
    assert _figures(nb) >= 4
    text = _text(nb)
    assert "unreconciled snapshots: 0 of 672" in text
    assert "clients: 14" in text


@pytest.mark.slow
def test_notebook_tables_are_formatted_for_people(executed) -> None:
    for name, nb in executed.items():
        html = _html(nb)
        assert "<table>" in html, name
        # No polars printout: no shape line, no dtype row, no quoted strings.
        assert "shape: (" not in html and "decimal[38" not in html, name
        assert "&quot;ETH&quot;" not in html and '"ETH"' not in html, name
