"""Schema versions: an older database is upgraded in place, a newer one is refused in one line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from analytics_data import Book

from pipeline.cli import main
from pipeline.store import connect
from pipeline.store.migrations import (
    Migration,
    SchemaTooNew,
    current_version,
    latest_version,
    migrations,
    prepare_schema,
    run_migration,
)

# The DDL as of commit 4319568, the last layout without a schema version (tests/fixtures).
UNVERSIONED = Path(__file__).parent / "fixtures" / "schema_4319568"
TABLES = (
    "raw_responses",
    "fetch_attempts",
    "balance_snapshots",
    "balance_lines",
    "clients",
    "check_results",
)
AT = datetime(2026, 11, 1, 12, tzinfo=UTC)


def unversioned_database(path: Path) -> Path:
    """A database as the release of 4319568 left it, holding one row in every table."""
    con = duckdb.connect(str(path))
    for ddl in sorted(UNVERSIONED.glob("*.sql")):
        con.execute(ddl.read_text())
    con.execute(
        "insert into raw_responses values ('r1', 500608, $at, $at, 200, '{\"x\": 1}',"
        " 'utf-8', 8, false)",
        {"at": AT},
    )
    con.execute(
        "insert into fetch_attempts values ('run', $at, 500608, 1, $at, 12.5, 200, 0, 'ok',"
        " null, 'r1')",
        {"at": AT},
    )
    con.execute(
        "insert into balance_snapshots values (500608, $at, 's1', $at, 0, 'ok', 5, 'e', 2, 'w',"
        " 1, 'ILS', 150000000000.12, 1, false, 'r1')",
        {"at": AT},
    )
    con.execute(
        "insert into balance_lines values (500608, $at, 'BTC', 's1', $at, 'ILS',"
        " 12345678901234567890.12345678, 150000000000.12, 0.00000001,"
        " 12345678901234567890.12345677, 1.2e-8)",
        {"at": AT},
    )
    con.execute("insert into clients values (500608, 'Main', $at, $at)", {"at": AT})
    con.execute(
        "insert into check_results values ('balance_lines_have_unique_keys', 'balance_lines',"
        " $at, true, 'ERROR', 0, '{}')",
        {"at": AT},
    )
    con.close()
    return path


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t: con.execute(f"select * from {t} order by all").fetchall() for t in TABLES}


def schema(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select table_name, column_index, column_name, data_type, is_nullable, column_default"
        " from duckdb_columns() where schema_name = 'main' and not internal"
        " and table_name in (select table_name from duckdb_tables())"
        " order by table_name, column_index"
    ).fetchall()


def constraints(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select table_name, constraint_type, constraint_column_names from duckdb_constraints()"
        " where schema_name = 'main' order by all"
    ).fetchall()


def test_a_database_of_the_unversioned_layout_is_upgraded_and_keeps_every_row(
    tmp_path: Path,
) -> None:
    path = unversioned_database(tmp_path / "old.duckdb")
    old = duckdb.connect(str(path), read_only=True)
    before = contents(old)
    assert current_version(old) == 0
    old.close()

    con = connect(path)  # a writer upgrades
    try:
        assert current_version(con) == latest_version()
        versions = con.execute("select version, name from schema_version order by 1").fetchall()
        assert versions == [(m.version, m.name) for m in migrations()]
        after = contents(con)
        # Every old row is still there, value for value; check_results gained empty columns.
        for table in TABLES:
            width = len(before[table][0])
            assert [row[:width] for row in after[table]] == before[table], table
        assert after["check_results"][0][width:] == (None, None)
        balance, value = con.execute(
            "select balance::varchar, value_base::varchar from balance_lines"
        ).fetchall()[0]
        assert (balance, value) == ("12345678901234567890.12345678", "150000000000.12")
        # The upgraded file is what a fresh one is, and the pipeline writes to it as usual.
        fresh = connect(tmp_path / "fresh.duckdb")
        assert schema(con) == schema(fresh)
        assert constraints(con) == constraints(fresh)
        fresh.close()
        Book(con).snapshot(500609, 1, {"ILS": ("10", "10", "10.00")})
        assert con.execute("select count(*) from balance_snapshots").fetchall() == [(2,)]
    finally:
        con.close()


def test_every_migration_is_idempotent(tmp_path: Path) -> None:
    con = connect(tmp_path / "b.duckdb")
    try:
        before = schema(con)
        for migration in migrations():
            run_migration(con, migration)
        assert schema(con) == before
    finally:
        con.close()


def test_a_failed_migration_leaves_the_database_at_its_last_version(tmp_path: Path) -> None:
    path = unversioned_database(tmp_path / "old.duckdb")
    con = duckdb.connect(str(path))
    broken = Migration(
        latest_version() + 1,
        "broken",
        "alter table clients add column nickname varchar; select * from no_such_table;",
    )
    try:
        with pytest.raises(duckdb.CatalogException):
            prepare_schema(con, path, steps=[*migrations(), broken])
        assert current_version(con) == latest_version()  # the good ones stay applied
        columns = [row[0] for row in con.execute("describe clients").fetchall()]
        assert "nickname" not in columns  # the broken one left nothing behind
    finally:
        con.close()


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    numbers = [m.version for m in migrations()]
    assert numbers == list(range(1, latest_version() + 1))
    assert latest_version() >= 1


def test_a_writer_prepares_a_file_once_per_process(tmp_path: Path) -> None:
    path = tmp_path / "b.duckdb"
    connect(path).close()
    con = connect(path)
    con.execute("drop view latest_balances")
    con.close()
    con = connect(path)  # same process, same file: no second round of DDL
    try:
        views = con.execute("select view_name from duckdb_views() where not internal").fetchall()
        assert ("latest_balances",) not in views
    finally:
        con.close()


def newer_database(path: Path) -> Path:
    con = connect(path)
    con.execute(
        "insert into schema_version values ($v, 'from_the_future', now())",
        {"v": latest_version() + 1},
    )
    con.close()
    return path


def test_a_newer_schema_is_refused_by_readers_and_writers(tmp_path: Path) -> None:
    path = newer_database(tmp_path / "new.duckdb")
    for read_only in (True, False):
        with pytest.raises(SchemaTooNew) as refused:
            connect(path, read_only=read_only)
        message = str(refused.value)
        assert "\n" not in message
        assert f"schema version {latest_version() + 1}" in message
        assert str(path) in message and "upgrade hyper-balance-history" in message
    # The refusal closed what it opened: the file is free for the next process.
    duckdb.connect(str(path)).close()


@pytest.mark.parametrize("command", [["query", "largest_locked"], ["run"], ["replay"]])
def test_commands_meeting_a_newer_schema_exit_2_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    for name in ("HYPER_BASE_URL", "HYPER_CLIENTS_FILE", "DAGSTER_HOME", "PIPELINE_START"):
        monkeypatch.delenv(name, raising=False)
    path = newer_database(tmp_path / "new.duckdb")
    assert main([*command, "--db", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # One line says why (`run` says first what it was about to poll); no traceback.
    assert "newer than this release knows" in err[-1], err
    assert len(err) <= 2 and not any("Traceback" in line for line in err), err
    assert contents_untouched(path)


def contents_untouched(path: Path) -> bool:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select count(*) from fetch_attempts").fetchall() == [(0,)]
    finally:
        con.close()
