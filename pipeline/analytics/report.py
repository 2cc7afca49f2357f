"""Execute the analytics notebooks against a DuckDB file and render them as HTML pages.

`build_report` writes one self-contained page per notebook (images embedded, code hidden) and an
`index.html` linking them; the notebooks in git stay output-free.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from pipeline.settings import PIPELINE_DB

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent.parent / "notebooks"
NOTEBOOKS = ("implied_fx_rates", "client_balances", "reconciliation")
CELL_TIMEOUT_SECONDS = 300


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    # The kernel inherits this process's environment: that is how the notebook gets its DB.
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def execute_notebook(name: str, db_path: Path) -> nbformat.NotebookNode:
    """Run `notebooks/<name>.ipynb` in a python3 kernel against db_path; return it with outputs."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    with _env(PIPELINE_DB, str(Path(db_path).resolve())):
        NotebookClient(
            nb,
            kernel_name="python3",
            timeout=CELL_TIMEOUT_SECONDS,
            resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        ).execute()
    return nb


def render_html(nb: nbformat.NotebookNode) -> str:
    """A self-contained page: images are embedded as data URIs, input code is hidden."""
    exporter = HTMLExporter(embed_images=True, exclude_input=True, exclude_input_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


def build_report(db_path: Path, out_dir: Path) -> Path:
    """Execute every notebook against db_path; write a page per notebook and index.html."""
    out_dir.mkdir(parents=True, exist_ok=True)
    links = []
    for name in NOTEBOOKS:
        page = out_dir / f"{name}.html"
        page.write_text(render_html(execute_notebook(name, db_path)), encoding="utf-8")
        title = name.replace("_", " ").capitalize()
        links.append(f'<li><a href="{page.name}">{html.escape(title)}</a></li>')
    index = out_dir / "index.html"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Balance history report</title>"
        "</head><body style='font-family: sans-serif; max-width: 40em; margin: 2em auto'>"
        "<h1>Balance history report</h1>"
        f"<p>Database <code>{html.escape(str(Path(db_path).resolve()))}</code>, rendered {stamp}."
        f"</p><ul>{''.join(links)}</ul></body></html>\n",
        encoding="utf-8",
    )
    return index
