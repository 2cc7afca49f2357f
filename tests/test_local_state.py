"""Local state beside the store: a file's folder, a lake's local data folder, or the cwd."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.defs.launch import instance_home
from pipeline.settings import TOKEN_STATE_FILE_NAME, Settings

LAKE = "ducklake:postgres:host=/var/run/postgresql dbname=lake"


@pytest.mark.parametrize(
    ("db", "data", "folder"),
    [
        ("data/balances.duckdb", None, Path("data")),
        (LAKE, "/srv/lake/files", Path("/srv/lake")),
        (LAKE, "s3://bucket/lake/", Path()),
        (LAKE, None, Path()),
    ],
)
def test_token_pair_and_runs_are_kept_beside_the_store(
    db: str, data: str | None, folder: Path
) -> None:
    # Not Path(lake URL).parent: that is `ducklake:postgres:host=/var/run`, a folder that
    # would be created relative to the working directory.
    settings = Settings(db_path=Path(db), lake_data_path=data)
    assert settings.local_folder == folder
    assert settings.effective_token_state_file == folder / TOKEN_STATE_FILE_NAME
    assert instance_home(settings) == folder / ".dagster"


def test_an_explicit_token_file_and_dagster_home_win(tmp_path: Path) -> None:
    settings = Settings(
        db_path=Path(LAKE),
        lake_data_path="/srv/lake/files",
        token_state_file=tmp_path / "tokens.json",
        dagster_home=tmp_path / "dagster",
    )
    assert settings.effective_token_state_file == tmp_path / "tokens.json"
    assert instance_home(settings) == tmp_path / "dagster"
