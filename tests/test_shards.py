"""Shards: append-only clients, full rounds into a DuckLake, partitions of the clients file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline.store.database import connect

SLOT = datetime(2026, 3, 1, 10, tzinfo=UTC)

# The `clients` table as stores made before client_sightings have it.
OLD_CLIENTS_TABLE = """
create table clients (
    client_number   bigint primary key,
    label           varchar,
    first_seen      timestamptz not null,
    last_seen       timestamptz not null
)
"""


def _clients(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select client_number, label, first_seen, last_seen from clients order by 1"
    ).fetchall()


def test_an_old_clients_table_becomes_sightings_behind_a_view_of_the_same_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute("set TimeZone = 'UTC'")
    old.execute(OLD_CLIENTS_TABLE)
    old.execute(
        "insert into clients values (1, 'alpha', $a, $b), (2, null, $a, $a)",
        {"a": SLOT, "b": SLOT.replace(hour=12)},
    )
    before = _clients(old)
    old.close()

    for _ in range(2):  # the upgrade happens once; a second connect finds nothing to do
        con = connect(path)
        kind = con.execute(
            "select table_type from information_schema.tables where table_name = 'clients'"
        ).fetchone()
        assert kind == ("VIEW",)
        assert _clients(con) == before
        assert con.execute("select count(*) from client_sightings").fetchone() == (3,)
        con.close()


def test_the_view_keeps_the_latest_label_and_the_widest_range(tmp_path: Path) -> None:
    con = connect(tmp_path / "s.duckdb")
    con.execute(
        "insert into client_sightings values "
        "(5, 'old', $a), (5, null, $c), (5, 'new', $b), (5, null, $a)",
        {"a": SLOT, "b": SLOT.replace(hour=11), "c": SLOT.replace(hour=13)},
    )
    assert _clients(con) == [(5, "new", SLOT, SLOT.replace(hour=13))]
