"""The data contract on a DuckLake in a real PostgreSQL: DDL, exact money, atomicity,
concurrent writers, and every view answering as it does on a DuckDB file."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from pg import LakeFixture

from pipeline.settings import ConfigurationError, Settings
from pipeline.store import connect
from pipeline.store.extensions import extension_file
from pipeline.store.lake import (
    META_SCHEMA,
    close_lakes,
    copy_from_file,
    current_catalog,
    lake_ddl,
)
from pipeline.store.sqlfiles import load_sql, sql_names

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_TABLES = [
    "raw_responses",
    "fetch_attempts",
    "balance_snapshots",
    "balance_lines",
    "client_sightings",  # `clients` is a view over it
]
VIEWS = [name.split("/", 1)[1].split("_", 1)[1] for name in sql_names("views")] + ["clients"]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, ...]]:
    return con.execute(
        """
        select c.table_name, c.column_name, c.data_type, c.is_nullable
        from information_schema.columns as c
        join information_schema.tables as t using (table_catalog, table_schema, table_name)
        where c.table_catalog = $catalog and c.table_schema = 'main'
          and t.table_type = 'BASE TABLE'
        order by c.table_name, c.ordinal_position
        """,
        {"catalog": catalog},
    ).fetchall()


def test_the_extensions_come_from_the_installed_wheels() -> None:
    for name in ("ducklake", "postgres", "httpfs"):
        path = extension_file(name)
        assert path.name == f"{name}.duckdb_extension"
        assert f"v{duckdb.__version__}" in path.parts
        assert "site-packages" in path.parts


def test_the_contract_ddl_applies_on_a_lake_with_the_files_columns(
    lake: LakeFixture, tmp_path: Path
) -> None:
    con = connect(lake.url, lake_data_path=str(lake.data_path))
    catalog = current_catalog(con)
    file_con = connect(tmp_path / "file.duckdb")
    # Same tables, columns, types and nullability as a DuckDB file; keys stay NOT NULL.
    assert _columns(con, catalog) == _columns(file_con, "file")
    assert {row[0] for row in _columns(con, catalog)} >= set(CONTRACT_TABLES)
    views = con.execute(
        "select view_name from duckdb_views() where database_name = $c", {"c": catalog}
    ).fetchall()
    assert {row[0] for row in views} == set(VIEWS)
    # A writer reconnecting finds the DDL applied and adds no catalog snapshot.
    snapshots = "select count(*) from ducklake_snapshots(current_database())"
    before = con.execute(snapshots).fetchone()
    close_lakes()
    con = connect(lake.url)
    assert con.execute(snapshots).fetchone() == before


def test_key_constraints_are_dropped_for_the_lake_and_key_columns_stay_not_null() -> None:
    ddl = lake_ddl(
        "create table t (\n  id varchar primary key, -- the key\n  n bigint not null unique,\n"
        "  a int,\n  primary key (id, n)\n);"
    )
    assert ddl == "create table t (\n  id varchar not null, \n  n bigint not null,\n  a int\n);"


@pytest.mark.parametrize("rows", [1, 1000], ids=["inlined-in-catalog", "parquet-file"])
def test_decimals_round_trip_exactly(lake: LakeFixture, rows: int) -> None:
    """Both homes of lake data keep every digit: small inserts inlined in the PostgreSQL
    catalog, larger ones in Parquet files."""
    con = connect(lake.url, lake_data_path=str(lake.data_path))
    con.execute(
        """
        insert into balance_lines (client_number, slot_start, currency, snapshot_id, observed_at,
                                   balance, value_base, cash, locked)
        select i, timestamptz '2026-01-01 00:00:00+00', 'USD', 's' || i,
               timestamptz '2026-01-01 00:00:01+00',
               '150000000000.12345678'::decimal(38, 8), '150000000000.12'::decimal(38, 2),
               '0.00000001'::decimal(38, 8), '150000000000.12345677'::decimal(38, 8)
        from range($rows) as t(i)
        """,
        {"rows": rows},
    )
    reader = connect(lake.url, read_only=True)
    values = reader.execute(
        "select distinct balance::varchar, value_base::varchar, cash::varchar, locked::varchar, "
        "typeof(balance), typeof(value_base) from balance_lines"
    ).fetchall()
    assert values == [
        (
            "150000000000.12345678",
            "150000000000.12",
            "0.00000001",
            "150000000000.12345677",
            "DECIMAL(38,8)",
            "DECIMAL(38,2)",
        )
    ]
    (total,) = reader.execute("select sum(balance) from balance_lines").fetchone()
    assert total == Decimal("150000000000.12345678") * rows
    parquet_files = list(lake.data_path.rglob("*.parquet"))
    assert bool(parquet_files) == (rows > 10)  # DuckLake inlines inserts of <= 10 rows


def test_a_snapshot_and_its_lines_roll_back_together(lake: LakeFixture) -> None:
    con = connect(lake.url, lake_data_path=str(lake.data_path))
    snapshot = """
        insert into balance_snapshots (client_number, slot_start, snapshot_id, observed_at,
                                       response_code, line_count, is_restricted, raw_id)
        values (7, timestamptz '2026-01-01 00:00:00+00', 's7', now(), 0, 1, false, 'r7')
    """
    line = """
        insert into balance_lines (client_number, slot_start, currency, snapshot_id, observed_at,
                                   balance, value_base, cash, locked)
        values (7, timestamptz '2026-01-01 00:00:00+00', 'USD', 's7', now(), 1, 1, {cash}, 0)
    """
    con.execute("begin transaction")
    con.execute(snapshot)
    with pytest.raises(duckdb.ConstraintException):
        con.execute(line.format(cash="null"))  # cash is NOT NULL: the line fails
    con.execute("rollback")
    reader = connect(lake.url, read_only=True)
    counts = "select (select count(*) from balance_snapshots), (select count(*) from balance_lines)"
    assert reader.execute(counts).fetchone() == (0, 0)
    # The same pair without the fault commits both: the rollback above was the transaction's.
    con.execute("begin transaction")
    con.execute(snapshot)
    con.execute(line.format(cash="1"))
    con.execute("commit")
    assert reader.execute(counts).fetchone() == (1, 1)


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipeline.store import connect

    url, data_path, go, worker, slots, clients = sys.argv[1:7]
    worker, slots, clients = int(worker), int(slots), int(clients)
    Path(f"{go}.ready{worker}").touch()
    while not Path(go).exists():  # start together, new lake and all
        time.sleep(0.005)
    con = connect(url, lake_data_path=data_path)
    low = worker * clients
    for slot in range(slots):
        params = {"low": low, "high": low + clients, "slot": slot}
        con.execute("begin transaction")
        con.execute(
            '''
            insert into balance_snapshots (client_number, slot_start, snapshot_id, observed_at,
                response_code, line_count, is_restricted, raw_id)
            select c, timestamptz '2026-01-01 00:00:00+00' + to_hours($slot), c || '-' || $slot,
                now(), 0, 3, false, 'r'
            from range($low, $high) as t(c)
            ''',
            params,
        )
        con.execute(
            '''
            insert into balance_lines (client_number, slot_start, currency, snapshot_id,
                observed_at, balance, value_base, cash, locked)
            select c, timestamptz '2026-01-01 00:00:00+00' + to_hours($slot), cur,
                c || '-' || $slot, now(), 1.5, 2.25, 1, 0.5
            from range($low, $high) as t(c), (values ('USD'), ('EUR'), ('ILS')) as v(cur)
            ''',
            params,
        )
        con.execute("commit")
    print("ok")
    """
)


@pytest.mark.slow
def test_four_processes_append_at_once_into_a_new_lake(lake: LakeFixture, tmp_path: Path) -> None:
    """Four writers start together on a lake that does not exist yet: they race to create it,
    then append a slot per transaction. Every commit lands, none twice."""
    workers, slots, clients = 4, 6, 300
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                lake.url,
                str(lake.data_path),
                str(go),
                str(worker),
                str(slots),
                str(clients),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(workers)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("go.ready*"))) < workers and time.monotonic() < deadline:
        time.sleep(0.01)  # all four imported: the go file releases them at once
    go.touch()
    results = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * workers, [err[-3000:] for _, err in results]
    reader = connect(lake.url, read_only=True)
    assert reader.execute("select count(*) from balance_snapshots").fetchone() == (
        workers * slots * clients,
    )
    lines = reader.execute(
        "select count(*), count(distinct (client_number, slot_start, currency)) from balance_lines"
    ).fetchone()
    assert lines == (workers * slots * clients * 3,) * 2
    # The schema was created once, whoever won the race.
    tables = reader.execute(
        "select table_name, count(*) from duckdb_tables() where database_name = $c "
        "and schema_name = 'main' group by all having count(*) > 1",
        {"c": current_catalog(reader)},
    ).fetchall()
    assert tables == []
    markers = reader.execute(f"select count(*) from {META_SCHEMA}.ddl_applied").fetchone()
    assert markers == (1,)


def _rows_equal(left: list[tuple], right: list[tuple]) -> bool:
    """Equal rows; doubles equal to 12 significant digits (parallel sums may reorder)."""

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-12) or (math.isnan(a) and math.isnan(b))
        return a == b

    return len(left) == len(right) and all(
        len(x) == len(y) and all(same(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(left, right, strict=True)
    )


@pytest.mark.slow
def test_every_view_answers_on_the_lake_as_on_the_file(
    lake: LakeFixture, demo_db_template: Path
) -> None:
    """The demo's history copied into a lake: every view in sql/views creates there and gives
    the file's rows, read through an analyst's read-only attach."""
    writer = connect(lake.url, lake_data_path=str(lake.data_path))
    copy_from_file(writer, demo_db_template, CONTRACT_TABLES)
    reader = connect(lake.url, read_only=True)
    file_con = connect(demo_db_template, read_only=True)
    differing = {}
    for view in VIEWS:
        # Whole rows as the sort key: both sides order identically, ties included.
        query = f"select * from {view} order by all"
        on_lake, on_file = reader.execute(query).fetchall(), file_con.execute(query).fetchall()
        if not on_file or not _rows_equal(on_lake, on_file):
            differing[view] = (len(on_lake), len(on_file))
    assert differing == {}


def test_a_lake_url_is_validated_once_in_settings() -> None:
    lake = "ducklake:postgres:host=db.internal dbname=lake user=pipeline"
    settings = Settings.from_env({"PIPELINE_DB": lake, "PIPELINE_LAKE_DATA_PATH": "s3://b/lake"})
    assert str(settings.db_path) == lake
    assert settings.lake_data_path == "s3://b/lake"
    bad = {
        "ducklake:sqlite:lake.sqlite": "not PostgreSQL",
        "ducklake:postgres:host=db dbname=lake password=hunter2": "must not carry a password",
        "ducklake:postgres:postgresql://u@db/lake": "key=value",
        "ducklake:postgres:host=db": "dbname",
    }
    for url, message in bad.items():
        with pytest.raises(ConfigurationError, match=message) as caught:
            Settings.from_env({"PIPELINE_DB": url})
        assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="not a DuckLake URL"):
        Settings.from_env({"PIPELINE_LAKE_DATA_PATH": "/srv/lake"})


def test_a_missing_catalog_database_is_one_clear_error(lake: LakeFixture) -> None:
    missing = lake.conninfo.replace(f"dbname={lake.dbname}", "dbname=no_such_catalog")
    with pytest.raises(ConfigurationError, match="catalog database exists"):
        connect("ducklake:postgres:" + missing, lake_data_path=str(lake.data_path))


def test_a_new_lake_without_a_data_path_says_which_setting_to_set(lake: LakeFixture) -> None:
    with pytest.raises(ConfigurationError, match="PIPELINE_LAKE_DATA_PATH"):
        connect(lake.url)


@pytest.fixture(params=["file", "lake"])
def engine_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """(PIPELINE_DB, data path) of an empty store on each engine."""
    if request.param == "file":
        return str(tmp_path / "store.duckdb"), None
    lake = request.getfixturevalue("lake")
    return lake.url, str(lake.data_path)


STAGED = {
    "store/insert_raw_responses": (
        "incoming_raw",
        "raw_responses",
        """
        select 'r' || (i % 3) as raw_id, 7 as client_number,
            timestamptz '2026-01-01 00:00:00+00' as slot_start,
            timestamptz '2026-01-01 00:00:01+00' as observed_at, 200 as http_status,
            '{}' as body, 'utf-8' as body_encoding, 2 as body_size, false as body_truncated
        from range(6) as t(i)
        """,
    ),
    "store/raw_import": (
        "imported_raw",
        "raw_responses",
        """
        select 'r' || (i % 3) as raw_id, 7 as client_number,
            timestamptz '2026-01-01 00:00:00+00' + to_hours(i % 3) as slot_start,
            timestamptz '2026-01-01 00:00:01+00' as observed_at, 200 as http_status,
            '{}' as body, 'utf-8' as body_encoding, 2 as body_size, false as body_truncated
        from range(6) as t(i)
        """,
    ),
    "store/insert_fetch_attempts": (
        "incoming_attempts",
        "fetch_attempts",
        """
        select 'run' as run_id, timestamptz '2026-01-01 00:00:00+00' as slot_start,
            7 as client_number, (i % 3)::int as attempt,
            timestamptz '2026-01-01 00:00:01+00' as requested_at, 1.5 as duration_ms,
            200 as http_status, 0 as response_code, 'ok' as outcome, null as error,
            null as raw_id
        from range(6) as t(i)
        """,
    ),
}


@pytest.mark.parametrize("name", sorted(STAGED))
def test_landing_is_idempotent_on_both_engines(
    engine_target: tuple[str, str | None], name: str
) -> None:
    """The anti-join inserts keep one row per key, within a batch and across re-runs, on a
    DuckDB file (which also has the keys) and on a lake (which has none)."""
    staged, table, rows = STAGED[name]
    target, data_path = engine_target
    con = connect(target, lake_data_path=data_path)
    con.execute(f"create temp table {staged} as {rows}")
    for _ in range(2):
        con.execute(load_sql(name))
    assert con.execute(f"select count(*) from {table}").fetchone() == (3,)
