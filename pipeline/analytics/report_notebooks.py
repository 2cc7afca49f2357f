"""Execute the analytics notebooks (`notebooks/*.ipynb`) in a real Jupyter kernel.

The report renders directly in Python; the notebooks are the analysts' own view of the same
charts and are executed by the tests, like a user would run them, against a database file.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Sequence
from importlib.resources import as_file, files
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from pipeline.settings import PIPELINE_CLIENT, PIPELINE_DB, Settings, child_environment

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
    return execute_notebooks((name,), db_path, client=client)[name]


def execute_notebooks(
    names: Sequence[str], db_path: Path, *, client: str | None = None
) -> dict[str, nbformat.NotebookNode]:
    """Run several notebooks at once, each in its own kernel (kernels start in parallel)."""
    overrides = {PIPELINE_DB: str(Path(db_path).resolve())}
    if client is not None:
        overrides[PIPELINE_CLIENT] = client
    with as_file(NOTEBOOKS_ROOT) as folder:
        notebooks = {
            n: nbformat.read(Path(folder) / f"{n}.ipynb", as_version=4)  # type: ignore[no-untyped-call]
            for n in names
        }

        async def run_all() -> None:
            await asyncio.gather(
                *(
                    NotebookClient(
                        nb,
                        kernel_name="python3",
                        timeout=CELL_TIMEOUT_SECONDS,
                        resources={"metadata": {"path": str(folder)}},
                    ).async_execute(
                        # The kernel's own stderr is start-up chatter (a transport warning on
                        # every start); cell errors still arrive as outputs and raise.
                        stderr=subprocess.DEVNULL,
                        # The kernel finds the database through its environment, like a
                        # user's would.
                        env=child_environment(overrides),
                    )
                    for nb in notebooks.values()
                )
            )

        asyncio.run(run_all())
    return notebooks


def notebook_db_path(cwd: Path | None = None) -> Path:
    """The database a notebook reads: `Settings.from_env().db_path`, a relative path taken from
    the project root (the folder above with a pyproject.toml), since Jupyter starts a notebook's
    kernel in the notebook's own folder."""
    path = Settings.from_env().db_path
    if path.is_absolute():
        return path
    here = (cwd or Path.cwd()).resolve()
    root = next((p for p in (here, *here.parents) if (p / "pyproject.toml").exists()), here)
    return root / path
