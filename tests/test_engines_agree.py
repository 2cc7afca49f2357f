"""One archive, two engines: imported and replayed into a DuckDB file and into a DuckLake, the
history, its derived facts and every view come out the same."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from pg import LakeFixture
from test_lake import VIEWS, _rows_equal

from pipeline.cli import main
from pipeline.store import connect

HISTORY = ("balance_snapshots", "balance_lines")


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple]:
    return con.execute(f"select * from {relation} order by all").fetchall()


def _checksum(con: duckdb.DuckDBPyConnection, table: str) -> tuple:
    # Order-free: a count and the sum of every row's hash.
    return con.execute(f"select count(*), sum(hash(t)) from {table} as t").fetchall()[0]


def _pipeline(monkeypatch: pytest.MonkeyPatch, db: str, data: str | None, *argv: str) -> None:
    monkeypatch.setenv("PIPELINE_DB", db)
    if data is None:
        monkeypatch.delenv("PIPELINE_LAKE_DATA_PATH", raising=False)
    else:
        monkeypatch.setenv("PIPELINE_LAKE_DATA_PATH", data)
    assert main(list(argv)) == 0


@pytest.mark.slow
def test_one_archive_imported_and_replayed_gives_the_same_history_on_both_engines(
    demo_db_template: Path,
    lake: LakeFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = tmp_path / "all.ndjson.gz"
    _pipeline(monkeypatch, str(demo_db_template), None, "raw", "export", "--out", str(archive))
    file_db = str(tmp_path / "replayed.duckdb")
    targets = {"file": (file_db, None), "lake": (lake.url, str(lake.data_path))}
    for db, data in targets.values():
        _pipeline(monkeypatch, db, data, "raw", "import", str(archive))
        _pipeline(monkeypatch, db, data, "replay")
        # A second replay changes nothing on either engine.
        _pipeline(monkeypatch, db, data, "replay")
        # Compacted (by client), then one client's lines lost there: a replay reads those
        # periods by client ranges and puts them back, on both engines.
        _pipeline(monkeypatch, db, data, "maintain")
        writer = connect(db, lake_data_path=data) if data else connect(db)
        try:
            gone = writer.execute(
                "delete from balance_lines where client_number = 500601 and slot_start < "
                "(select max(period_end) from maintenance_compactions)"
            ).fetchall()[0][0]
            assert gone > 0
        finally:
            writer.close()
        _pipeline(monkeypatch, db, data, "replay")

    on_file = connect(file_db, read_only=True)
    on_lake = connect(lake.url, read_only=True)
    original = connect(demo_db_template, read_only=True)
    try:
        for table in HISTORY:
            assert _checksum(on_file, table) == _checksum(on_lake, table), table
            assert _rows(on_file, table) == _rows(original, table), table
            assert _checksum(on_file, table)[0] > 0
        differing = [
            view for view in VIEWS if not _rows_equal(_rows(on_file, view), _rows(on_lake, view))
        ]
        assert differing == []
    finally:
        for con in (on_file, on_lake, original):
            con.close()
