"""Execute the analytics notebooks against a DuckDB file and render them as HTML pages.

`build_report` writes one self-contained page, `report.html` (images embedded, code hidden, no
external scripts), with a section per notebook; the notebooks in git stay output-free.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from pipeline.settings import PIPELINE_DB, child_environment

# `notebooks/` at the top of the repository, shipped in the package as `pipeline/notebooks`.
NOTEBOOKS_ROOT = files("pipeline") / "notebooks"
NOTEBOOKS = ("implied_fx_rates", "client_balances", "reconciliation")
CELL_TIMEOUT_SECONDS = 300


def execute_notebook(name: str, db_path: Path) -> nbformat.NotebookNode:
    """Run `notebooks/<name>.ipynb` in a python3 kernel against db_path; return it with outputs."""
    with as_file(NOTEBOOKS_ROOT) as folder:
        nb = nbformat.read(Path(folder) / f"{name}.ipynb", as_version=4)
        NotebookClient(
            nb,
            kernel_name="python3",
            timeout=CELL_TIMEOUT_SECONDS,
            resources={"metadata": {"path": str(folder)}},
        ).execute(
            # The kernel's own stderr is start-up chatter (a transport warning on every start);
            # cell errors still arrive as outputs and make execute() raise.
            stderr=subprocess.DEVNULL,
            # The kernel finds the database through its environment, like a user's would.
            env=child_environment({PIPELINE_DB: str(Path(db_path).resolve())}),
        )
    return nb


def render_html(nb: nbformat.NotebookNode) -> str:
    """A self-contained page: images embedded as data URIs, input code hidden, no CDN scripts."""
    exporter = HTMLExporter(
        embed_images=True,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        # The outputs are static charts and tables: neither RequireJS nor MathJax is needed,
        # and a page that fetches them from a CDN is not self-contained.
        require_js_url="",
        mathjax_url="",
    )
    body, _ = exporter.from_notebook_node(nb)
    return _EMPTY_SCRIPT.sub("", body)


_EMPTY_SCRIPT = re.compile(r'<script[^>]*src=""[^>]*>\s*</script>')


def combine(executed: dict[str, nbformat.NotebookNode], db_path: Path) -> nbformat.NotebookNode:
    """One notebook: a title cell, then every executed notebook's cells (each opens with its
    own heading)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = nbformat.v4.new_notebook()
    report.metadata = next(iter(executed.values())).metadata
    report.cells.append(
        nbformat.v4.new_markdown_cell(
            f"# Balance history report\n\nDatabase `{Path(db_path).resolve()}`, rendered {stamp}."
        )
    )
    for nb in executed.values():
        report.cells.extend(nb.cells)
    return report


def write_report(executed: dict[str, nbformat.NotebookNode], db_path: Path, out_dir: Path) -> Path:
    """Write the executed notebooks as one self-contained `report.html` in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "report.html"
    page.write_text(render_html(combine(executed, db_path)), encoding="utf-8")
    return page


def build_report(db_path: Path, out_dir: Path) -> Path:
    """Execute every notebook against db_path and write them as one self-contained page."""
    executed = {name: execute_notebook(name, db_path) for name in NOTEBOOKS}
    return write_report(executed, db_path, out_dir)
