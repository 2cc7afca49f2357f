"""Assertions about the data contract that several tests check on real DuckDB files."""

from __future__ import annotations

import duckdb


def assert_no_snapshot_without_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Every snapshot has exactly `line_count` lines: none was left half-written."""
    mismatched = con.execute(
        """
        select count(*) from balance_snapshots s
        where s.line_count <> (select count(*) from balance_lines l
                               where l.client_number = s.client_number
                                 and l.slot_start = s.slot_start)
        """
    ).fetchone()[0]
    assert mismatched == 0
