"""DuckLake on PostgreSQL against the DuckDB file: appends and view timings on N lines.

The reference is the DuckDB file, measured in the same run on the same rows. Synthetic
history (clients x hourly slots x 5 currencies, exact DECIMALs) is generated once per batch as
Arrow and appended to both stores through the project's own `connect()`, one transaction per
batch of snapshots and their lines (as a round does). Then each view is counted in full, and
one client's history read, on both. Prints rows/s, seconds and the lake/file ratios.

    uv run python bench/lake.py                      # 200k lines
    uv run python bench/lake.py --scale 10000000     # 10M lines (minutes)

PostgreSQL: `--postgres CONNINFO` (or PIPELINE_TEST_POSTGRES) names a server whose user may
create databases; otherwise a throwaway cluster is started as the tests do (tests/pg.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.store import connect
from pipeline.store.derived import refresh_derived
from pipeline.store.lake import close_lakes

ROOT = Path(__file__).resolve().parent.parent
CURRENCIES = ("USD", "EUR", "ILS", "GBP", "BTC")
# Views every analyst touches, from a plain aggregate to the windows over the whole book.
VIEWS = (
    "latest_balances",
    "house_totals",
    "implied_fx_rates",
    "snapshot_reconciliation",
    "daily_balances",
    "balance_changes",
)
SCAN = "select count(*), sum(balance), sum(value_base) from balance_lines"
ONE_CLIENT = (
    "select * from balance_lines where client_number = $client order by slot_start, currency"
)

LINES_SQL = """
select
    c as client_number,
    timestamptz '2026-01-01 00:00:00+00' + to_hours(s::int) as slot_start,
    cur as currency,
    c || '-' || s as snapshot_id,
    timestamptz '2026-01-01 00:00:07+00' + to_hours(s::int) as observed_at,
    'ILS' as base_currency,
    ((hash(c, s, cur) % 100000000000)::decimal(38, 0) / 1000)::decimal(38, 8) as balance,
    ((hash(c, s, cur) % 100000000000)::decimal(38, 0) / 275)::decimal(38, 2) as value_base,
    ((hash(c, s, cur) % 50000000000)::decimal(38, 0) / 1000)::decimal(38, 8) as cash,
    (((hash(c, s, cur) % 100000000000) - (hash(c, s, cur) % 50000000000))::decimal(38, 0)
        / 1000)::decimal(38, 8) as locked,
    3.6363636363::double as implied_rate
from range($slot_low, $slot_high) as slots(s),
     range($clients) as clients(c),
     unnest($currencies) as currencies(cur)
"""
SNAPSHOTS_SQL = """
select client_number, slot_start, any_value(snapshot_id) as snapshot_id,
    any_value(observed_at) as observed_at, 0 as response_code, 'OK' as response_message,
    1 as erp_account_status, 'Active' as erp_account_status_text, 1 as web_account_status,
    'Active' as web_account_status_text, 1 as agency, 'ILS' as base_currency,
    sum(value_base)::decimal(38, 2) as total_floating_balance, count(*)::int as line_count,
    false as is_restricted, 'raw-' || any_value(snapshot_id) as raw_id
from lines
group by client_number, slot_start
"""


def batches(lines: int, clients: int, batch_lines: int) -> Iterator[tuple[pa.Table, pa.Table]]:
    """(snapshots, lines) Arrow tables of whole slots, `batch_lines` lines or so each."""
    per_slot = clients * len(CURRENCIES)
    slots = max(1, lines // per_slot)
    step = max(1, batch_lines // per_slot)
    gen = duckdb.connect()
    gen.execute("set TimeZone = 'UTC'")
    for low in range(0, slots, step):
        params = {
            "slot_low": low,
            "slot_high": min(slots, low + step),
            "clients": clients,
            "currencies": list(CURRENCIES),
        }
        line_table = gen.execute(LINES_SQL, params).to_arrow_table()
        gen.register("lines", line_table)
        yield gen.execute(SNAPSHOTS_SQL).to_arrow_table(), line_table
        gen.unregister("lines")


def append(con: duckdb.DuckDBPyConnection, data: list[tuple[pa.Table, pa.Table]]) -> float:
    """Seconds to append every batch and refresh its derived facts, one transaction each."""
    started = time.perf_counter()
    for snapshots, lines in data:
        con.register("batch_snapshots", snapshots)
        con.register("batch_lines", lines)
        con.execute("begin transaction")
        con.execute("insert into balance_snapshots by name select * from batch_snapshots")
        con.execute("insert into balance_lines by name select * from batch_lines")
        # As a round does: the derived facts the views read, in the same transaction.
        first, last = con.execute(
            "select min(slot_start), max(slot_start) from batch_snapshots"
        ).fetchall()[0]
        refresh_derived(con, first, last + timedelta(microseconds=1))
        con.execute("commit")
        con.unregister("batch_snapshots")
        con.unregister("batch_lines")
    return time.perf_counter() - started


def timed(run: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs (the first one warms caches and is dropped)."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextmanager
def postgres(conninfo: str | None) -> Iterator[str]:
    if conninfo:
        yield conninfo
        return
    # The tests' throwaway cluster: initdb + pg_ctl on 127.0.0.1, as postgres when root.
    sys.path.insert(0, str(ROOT / "tests"))
    from pg import postgres_bin, throwaway_cluster

    bin_dir = postgres_bin()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL: install the postgresql package or pass --postgres")
    with throwaway_cluster(bin_dir) as server:
        yield server.conninfo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=200_000, help="lines to append")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--batch-lines", type=int, default=50_000, help="lines per commit")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query")
    parser.add_argument("--postgres", default=os.environ.get("PIPELINE_TEST_POSTGRES"))
    args = parser.parse_args()

    data = list(batches(args.scale, args.clients, args.batch_lines))
    total = sum(lines.num_rows for _, lines in data)
    print(
        f"lines: {total:,} ({args.clients} clients x {total // args.clients // 5} slots x "
        f"{len(CURRENCIES)} currencies), {len(data)} commits of ~{data[0][1].num_rows:,} lines"
    )

    with tempfile.TemporaryDirectory() as tmp, postgres(args.postgres) as conninfo:
        import psycopg2

        name = f"bench_lake_{os.getpid()}"
        admin = psycopg2.connect(conninfo)
        admin.autocommit = True
        admin.cursor().execute(f"create database {name}")
        rest = " ".join(p for p in conninfo.split() if not p.startswith("dbname="))
        lake_url = f"ducklake:postgres:{rest} dbname={name}"
        try:
            file_con = connect(Path(tmp) / "bench.duckdb")
            lake_con = connect(lake_url, lake_data_path=str(Path(tmp) / "lake_data"))
            rows = {}
            for label, con in (("file", file_con), ("lake", lake_con)):
                seconds = append(con, data)
                rows[label] = total / seconds
                print(f"append {label}: {rows[label]:12,.0f} lines/s ({seconds:.2f} s)")
            print(f"append lake/file: {rows['lake'] / rows['file']:.2f}x the file's rate")
            files = len(list((Path(tmp) / "lake_data").rglob("*.parquet")))
            print(f"lake data files: {files} Parquet files")

            # Analysts read through read-only connections on both engines.
            file_con.close()
            readers = {
                "file": connect(Path(tmp) / "bench.duckdb", read_only=True),
                "lake": connect(lake_url, read_only=True),
            }
            queries: list[tuple[str, str, dict[str, object]]] = [
                ("scan of balance_lines", SCAN, {}),
                ("one client's lines", ONE_CLIENT, {"client": args.clients // 2}),
            ]
            queries += [(view, f"select count(*) from {view}", {}) for view in VIEWS]
            print(f"{'query':28} {'file s':>9} {'lake s':>9} {'lake/file':>10}")
            for label, sql, params in queries:
                answers = {}
                seconds = {}
                for engine, con in readers.items():
                    seconds[engine] = timed(
                        lambda con=con, sql=sql, params=params: con.execute(sql, params).fetchall(),
                        args.repeat,
                    )
                    answers[engine] = con.execute(sql, params).fetchall()
                same = "" if answers["file"] == answers["lake"] else "  ANSWERS DIFFER"
                print(
                    f"{label:28} {seconds['file']:9.3f} {seconds['lake']:9.3f} "
                    f"{seconds['lake'] / seconds['file']:9.1f}x{same}"
                )
        finally:
            close_lakes()
            admin.cursor().execute(f"drop database if exists {name} with (force)")
            admin.close()


if __name__ == "__main__":
    main()
