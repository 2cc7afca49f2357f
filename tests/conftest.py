"""Shared fixtures: demo databases built through the real simulator, HTTP and DuckDB."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from backfill import backfill_from_simulator, hourly_slots

from pipeline.simulator import SEED_EXAMPLE_INSTANT

# Two days of hourly history ending at the seed example's instant (inclusive).
DEMO_HOURS = 48
DEMO_START: datetime = SEED_EXAMPLE_INSTANT - timedelta(hours=DEMO_HOURS - 1)


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding 48 hourly slots of the simulator's demo book (built once)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    backfill_from_simulator(path, hourly_slots(DEMO_START, DEMO_HOURS))
    return path


@pytest.fixture
def demo_db(demo_db_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database that a test may modify."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    return path
