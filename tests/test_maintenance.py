"""`pipeline maintain`: closed periods rewritten clustered by client, a lake's files tidied,
and not one view row changed (on both engines)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from pg import LakeFixture
from test_lake import CONTRACT_TABLES, VIEWS, _rows_equal

from pipeline.cli import main
from pipeline.rounds.maintain import maintain
from pipeline.store import Database, connect
from pipeline.store.lake import copy_from_file


def view_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {view: con.execute(f"select * from {view} order by all").fetchall() for view in VIEWS}


def file_order(con: duckdb.DuckDBPyConnection, table: str, start: object, end: object) -> list:
    """(client, slot) of a period's rows in the order they are stored (rowid)."""
    return con.execute(
        f"select client_number, slot_start from {table} "
        "where slot_start >= $s and slot_start < $e order by rowid",
        {"s": start, "e": end},
    ).fetchall()


def test_maintain_clusters_closed_days_by_client_and_changes_no_view(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con = connect(demo_db, read_only=True)
    before = view_rows(con)
    (first, newest) = con.execute(
        "select min(slot_start), max(slot_start) from balance_snapshots"
    ).fetchall()[0]
    con.close()

    assert main(["maintain", "--db", str(demo_db)]) == 0
    out = capsys.readouterr()
    assert "periods compacted" in out.out
    con = connect(demo_db, read_only=True)
    periods = con.execute(
        "select period_start, period_end from maintenance_compactions order by 1"
    ).fetchall()
    # 48 demo hours end on the newest slot's day: the day(s) before it closed, today did not.
    assert periods and periods[0][0] <= first and periods[-1][1] <= newest
    clustered = 0
    for start, end in periods:
        for table in ("raw_responses", "balance_lines", "balance_snapshots", "derived_line_pairs"):
            stored = file_order(con, table, start, end)
            assert stored == sorted(stored), f"{table} in {start} is not stored by client"
            clustered += len(stored)
    assert clustered  # (periods before the first slot's day hold nothing)
    assert _same(view_rows(con), before)
    con.close()

    # Nothing left to do: a second run compacts nothing and still changes nothing.
    assert main(["maintain", "--db", str(demo_db)]) == 0
    assert "maintained" in capsys.readouterr().out
    summary = maintain(Database(demo_db))
    assert summary.compacted == [] and not summary.lake_tidied


@pytest.mark.slow
def test_maintain_on_a_lake_compacts_merges_and_expires(
    lake: LakeFixture, demo_db_template: Path
) -> None:
    writer = connect(lake.url, lake_data_path=str(lake.data_path))
    copy_from_file(writer, demo_db_template, CONTRACT_TABLES)
    writer.close()
    file_con = connect(demo_db_template, read_only=True)
    expected = view_rows(file_con)
    file_con.close()

    summary = maintain(
        Database(Path(lake.url), lake_data_path=str(lake.data_path)), lake_keep_days=0
    )
    assert summary.compacted and summary.lake_tidied
    reader = connect(lake.url, read_only=True)
    try:
        assert _same(view_rows(reader), expected)
    finally:
        reader.close()
    again = maintain(Database(Path(lake.url), lake_data_path=str(lake.data_path)))
    assert again.compacted == []


def _same(left: dict[str, list[tuple]], right: dict[str, list[tuple]]) -> bool:
    differing = [view for view in VIEWS if not _rows_equal(left[view], right[view])]
    assert differing == []
    return True


def test_maintain_refuses_a_negative_grace(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["maintain", "--db", str(demo_db), "--keep-days", "-1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
