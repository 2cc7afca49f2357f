"""Execute the analytics notebooks (`notebooks/*.ipynb`) in a real Jupyter kernel.

The report renders directly in Python; the notebooks are the analysts' own view of the same
charts and are executed by the tests, like a user would run them, against a database file.
"""

from __future__ import annotations

import subprocess
from importlib.resources import as_file, files
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from pipeline.settings import PIPELINE_CLIENT, PIPELINE_DB, child_environment

# `notebooks/` at the top of the repository, shipped in the package as `pipeline/notebooks`.
NOTEBOOKS_ROOT = files("pipeline") / "notebooks"
NOTEBOOKS = ("implied_fx_rates", "client_balances", "reconciliation")
CELL_TIMEOUT_SECONDS = 300


def execute_notebook(
    name: str, db_path: Path, *, client: str | None = None
) -> nbformat.NotebookNode:
    """Run `notebooks/<name>.ipynb` in a python3 kernel against db_path; return it with outputs.

    `client` is passed as PIPELINE_CLIENT, as a user would set it.
    """
    overrides = {PIPELINE_DB: str(Path(db_path).resolve())}
    if client is not None:
        overrides[PIPELINE_CLIENT] = client
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
            env=child_environment(overrides),
        )
    return nb
