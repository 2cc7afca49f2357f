"""Shared fixtures: demo databases built through the real simulator, HTTP and DuckDB."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from pg import LakeFixture, Postgres, new_lake, session_postgres

from pipeline.simulator import SEED_EXAMPLE_INSTANT

# backfill (the rounds, polars) and pipeline.store.lake (DuckDB) are imported by the fixtures
# that use them: the xdist controller loads this file too, before any worker starts (≈ 1 s).

# Property tests draw Hypothesis' default 100 examples; `uv run pytest --hypothesis-profile=deep`
# draws 30 times as many (minutes, not part of the README's test command).
settings.register_profile("deep", max_examples=3_000)

# Two days of hourly history ending at the seed example's instant (inclusive).
DEMO_HOURS = 48
DEMO_START: datetime = SEED_EXAMPLE_INSTANT - timedelta(hours=DEMO_HOURS - 1)


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `lock` (one process of the session at a time)."""
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A DuckDB file holding 48 hourly slots of the simulator's demo book (built once).

    Once per session, not once per xdist worker (≈ 5 CPU-s each): the workers' temp folders
    share a parent, where the first worker to get there builds it and the others wait for it.
    Tests only read it (they copy it through `demo_db` to write), and DuckDB lets readers in
    from any number of processes.
    """
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    from backfill import backfill_from_simulator, hourly_slots

    path = shared / "demo" / "demo.duckdb"
    with _exclusive(shared / "demo.lock"):
        if not (shared / "demo" / "built").exists():
            path.parent.mkdir(exist_ok=True)
            backfill_from_simulator(path, hourly_slots(DEMO_START, DEMO_HOURS))
            (shared / "demo" / "built").touch()
    return path


@pytest.fixture
def demo_db(demo_db_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database that a test may modify."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL (tests/pg.py): CI's, or a throwaway cluster; skips when there is none."""
    with session_postgres() as server:
        yield server


@pytest.fixture
def lake(
    postgres: Postgres, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[LakeFixture]:
    """A DuckLake of the test's own: a new catalog database and a data folder in tmp_path."""
    from pipeline.store.lake import close_lakes

    yield new_lake(postgres, tmp_path, request.node.name)
    # Cached lake instances hold catalog connections: close them before the next test's.
    close_lakes()


# The tests that take longest on their own (tens of seconds of wall clock each: processes,
# paced rounds, kernels), longest first. They start first, so that with `--dist worksteal`
# (pyproject addopts) the two workers share out everything else and end together, instead of
# one worker starting a 100-second test when the other is nearly done.
LONGEST_FIRST = (
    "tests/test_shards.py::test_four_shards_poll_one_simulator_into_one_lake_while_an_analyst_reads",
    "tests/test_concurrency.py::",
    "tests/test_crash.py::",
    "tests/test_secrets.py::",
    "tests/test_normalize.py::test_values_summing_past_decimal_38_2_reject_that_body_alone",
    "tests/test_engines_agree.py::",
    "tests/test_notebooks.py::",
    "tests/test_dagster.py::test_dg_check_defs_passes",
    "tests/test_graph.py::test_dg_list_defs_shows_the_pinned_graph",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest first, then the rest of the slow tests, then the fast ones (each in file order).

    Every xdist worker sorts the same collection the same way, as xdist requires.
    """

    def rank(item: pytest.Item) -> tuple[int, int]:
        for position, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return 0, position
        return (1 if item.get_closest_marker("slow") else 2), 0

    items.sort(key=rank)  # stable: file order within each rank
