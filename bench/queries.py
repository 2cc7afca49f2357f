"""How fast the views and named queries answer on a broker-sized book, against a bare scan.

Builds a store of 2,000 x scale clients x 1,000 hourly slots x 5 currencies (10M lines at
--scale 1, 50M at --scale 5) in SQL, in the project's schema (pipeline.store.connect): balances
that change now and then, currencies that vanish for a day and come back, locks that come and
go, debts, dust, outlier values, missed polls (1 %), and a few clients whose status goes 5 → 6
(restricted, no Data) and back. The store is laid out as the pipeline leaves it: closed weeks
compacted by client, the days of the current week compacted by client, today in slot order
(pipeline.store.derived.compact_range); the derived facts are built period by period as a replay
would, and the last slots are refreshed one by one as polling rounds do (timed).

Then it times every view and named query — whole book, one client, one currency, the last day —
against a bare aggregate scan of balance_lines (count and two sums) measured in the same run,
and reports bytes on disk per line. Each timing is the best of --repeat runs after a warm-up.

    uv run python bench/queries.py                 # 10M lines, about 5 minutes on 2 cores
    uv run python bench/queries.py --scale 5       # 50M lines (the issue's target size), ~20 min
    uv run python bench/queries.py --db PATH --reuse     # time an existing bench store again
    uv run python bench/queries.py --db PATH --rebuild   # same base tables, derived facts again

The targets (issue 11) are stated at 50M lines: whole-book views within 3x the scan, one-client
and last-day reads at least 10x faster than it, named queries within 1 s. At 10M the scan is
~0.13 s and a query's fixed cost (planning, ~10-25 ms here) caps the small reads' speedups.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipeline.analytics.queries import bind, load_query
from pipeline.store import connect
from pipeline.store.database import apply_ddl, configure
from pipeline.store.derived import (
    compact_range,
    compaction_periods,
    rebuild_derived,
    refresh_derived,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
SLOTS = 1_000
CLIENTS_PER_SCALE = 2_000
FIRST_CLIENT = 100_000
ROUND_SLOTS = 4  # the newest slots, refreshed one round at a time (timed)

# The book, as SQL macros of (client index c, slot index s, position p): deterministic, so a
# period can be generated on its own, in any order.
MACROS = """
create or replace temp macro g_missed(c, s) as hash(c, s, 3) % 100 = 0;
create or replace temp macro g_restricted(c, s) as c % 500 = 7 and (s // 100) % 3 = 1;
create or replace temp macro g_base(c) as case when c % 10 = 3 then 1 else 0 end;
create or replace temp macro g_present(c, s, p) as not (p = 4 and hash(c, s // 24, 5) % 10 = 0);
create or replace temp macro g_currency(k) as
    ['ILS', 'USD', 'EUR', 'BTC', 'ETH', 'USDT', 'SOL', 'PEPE'][k + 1];
create or replace temp macro g_price(k, s) as case when k = 0 then 1.0 else
    [1.0, 3.7, 4.0, 230000.0, 12000.0, 3.7, 600.0, 0.00004][k + 1]
    * (1 + 0.05 * sin(s / 40.0 + k) + 0.002 * sin(s * 1.7 * k)) end;
create or replace temp macro g_epoch(c, s, p) as (s + hash(c, p) % 97) // (6 + hash(c, p) % 31);
create or replace temp macro g_balance(c, s, p) as
    ((case when hash(c, p, g_epoch(c, s, p)) % 40 = 0 then 0
      else hash(c, p, g_epoch(c, s, p)) % 100000000000000 end)
     * case when p = 0 and c % 97 = 0 then -1 else 1 end)::decimal(18, 0)
    * 0.00000001::decimal(18, 8);
create or replace temp macro g_value(c, s, p) as
    round(g_balance(c, s, p)::double * g_price((c + p) % 8, s) / g_price(g_base(c), s)
          * case when hash(c, s, p) % 20000 = 0 then 1.02 else 1 end, 2)::decimal(18, 2);
create or replace temp macro g_locked(c, s, p) as
    case when hash(c, p, s // 30, 7) % 8 = 0 then (g_balance(c, s, p) * 0.1)::decimal(18, 8)
    else 0::decimal(18, 8) end;
create or replace temp macro g_id(c, s) as to_hex(hash(c, s, 1)) || to_hex(hash(s, c, 2));
"""

# One period [$s0, $s0 + $slots) of every table, client-major ($by_client) or slot-major.
GRID = """
    select
        case when $by_client then i // $slots else i % $clients end as c,
        $s0 + case when $by_client then i % $slots else i // $clients end as s
    from (select range as i from range($clients * $slots))
"""
INSERT_SNAPSHOTS = f"""
insert into balance_snapshots
select
    {FIRST_CLIENT} + c, $t0 + to_hours(s), g_id(c, s), $t0 + to_hours(s) + interval 400 millisecond,
    r::integer, case when r then 'restricted' else 'OK' end,
    case when r then 6 else 5 end, 'status', 2, 'web', 1,
    case when r then null else g_currency(g_base(c)) end,
    case when r then null else
        g_value(c, s, 0) + g_value(c, s, 1) + g_value(c, s, 2) + g_value(c, s, 3)
        + case when g_present(c, s, 4) then g_value(c, s, 4) else 0 end end,
    case when r then 0 when g_present(c, s, 4) then 5 else 4 end, r, g_id(c, s)
from (select c, s, g_restricted(c, s) as r from ({GRID}))
where not g_missed(c, s)
"""
INSERT_LINES = f"""
insert into balance_lines
select
    {FIRST_CLIENT} + c, $t0 + to_hours(s), g_currency((c + p) % 8), g_id(c, s),
    $t0 + to_hours(s) + interval 400 millisecond, g_currency(g_base(c)),
    b, v, b - l, l, case when b <> 0 then v::double / b::double end
from (
    select c, s, p, g_balance(c, s, p) as b, g_value(c, s, p) as v, g_locked(c, s, p) as l
    from ({GRID}), range(5) as positions(p)
    where not g_missed(c, s) and not g_restricted(c, s) and g_present(c, s, p)
)
"""
INSERT_ATTEMPTS = f"""
insert into fetch_attempts
select
    'bench', $t0 + to_hours(s), {FIRST_CLIENT} + c, 1,
    $t0 + to_hours(s) + interval 100 millisecond, 300.0,
    case when m then null else 200 end, case when m then null when r then 1 else 0 end,
    case when m then 'network_error' when r then 'restricted' else 'ok' end,
    case when m then 'connection reset' end, null
from (select c, s, g_missed(c, s) as m, g_restricted(c, s) as r from ({GRID}))
"""

REFERENCE = "select count(*), sum(balance), sum(value_base) from balance_lines {where}"

# view: (measure, time column for the last-day read, has a currency column, has a client column)
VIEWS: dict[str, tuple[str, str | None, bool, bool]] = {
    "observed_snapshots": ("max(next_slot_start)", "slot_start", False, True),
    "balance_line_pairs": ("sum(balance - prev_balance)", "slot_start", True, True),
    "latest_balances": ("sum(balance)", "slot_start", True, True),
    "house_totals": ("sum(total_balance)", "slot_start", True, False),
    "balance_changes": ("sum(balance_change)", "slot_start", True, True),
    "balance_intervals": ("sum(observed_snapshots)", "valid_from", True, True),
    "daily_balances": ("sum(balance)", "day", True, True),
    "coverage": ("sum(longest_gap_slots)", None, False, True),
    "implied_fx_rates": ("sum(median_rate)", "slot_start", True, False),
    "fx_rate_outliers": ("sum(value_deviation)", "slot_start", True, True),
    "value_attribution": ("sum(residual)", "slot_start", True, True),
    "locked_funds": ("sum(locked)", "slot_start", True, True),
    "locked_episodes": ("sum(locked_slots)", "episode_start", True, True),
    "account_status_history": ("sum(observed_snapshots)", "valid_from", False, True),
    "snapshot_reconciliation": ("sum(difference)", "slot_start", False, True),
    "fetch_health": ("sum(failures)", None, False, True),
}


def periods(slots: int) -> list[tuple[int, int, bool]]:
    """(first slot, slot count, clustered by client) in time order, as the maintenance leaves
    them (pipeline.store.derived.compaction_periods), then today in slot order."""
    hour = timedelta(hours=1)
    closed = compaction_periods(T0, T0 + (slots - 1) * hour)
    out = [(int((a - T0) / hour), int((b - a) / hour), True) for a, b in closed]
    today = int((closed[-1][1] - T0) / hour) if closed else 0
    return [*out, (today, slots - today, False)]


def build(
    con: duckdb.DuckDBPyConnection, clients: int, slots: int, *, base: bool = True
) -> dict[str, float]:
    """Write the base tables period by period (unless `base` is False: they are there) and the
    derived facts as replay and rounds would."""
    con.execute(MACROS)
    timings: dict[str, float] = {}
    if base:
        started = time.perf_counter()
        for s0, count, by_client in periods(slots):
            params = {"t0": T0, "s0": s0, "slots": count, "clients": clients}
            params["by_client"] = by_client
            for sql in (INSERT_SNAPSHOTS, INSERT_LINES, INSERT_ATTEMPTS):
                con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
        con.execute("checkpoint")
        timings["base tables"] = time.perf_counter() - started

    # Derived facts of all but the newest slots, a period per batch, as a replay computes them.
    cut = T0 + timedelta(hours=slots - ROUND_SLOTS)
    batches = [
        (T0 + timedelta(hours=s0), min(T0 + timedelta(hours=s0 + count), cut))
        for s0, count, _ in periods(slots)
        if T0 + timedelta(hours=s0) < cut
    ]
    started = time.perf_counter()
    con.execute("begin")
    rebuild_derived(con, batches=batches)
    con.execute("commit")
    con.execute("checkpoint")
    timings["derived (replay)"] = time.perf_counter() - started
    # Reference: writing those lines once more, clustered as compaction does.
    started = time.perf_counter()
    con.execute("begin")
    con.execute(
        "create table bench_lines_copy as select * from balance_lines where slot_start < $cut"
        " order by client_number, slot_start, currency",
        {"cut": cut},
    )
    con.execute("commit")
    con.execute("checkpoint")
    timings["lines copy (reference)"] = time.perf_counter() - started
    con.execute("drop table bench_lines_copy")

    # The newest slots, one polling round each: refresh after the round's append.
    rounds = []
    for hour in range(slots - ROUND_SLOTS, slots):
        at = T0 + timedelta(hours=hour)
        started = time.perf_counter()
        con.execute("begin")
        refresh_derived(con, at, at + timedelta(hours=1))
        con.execute("commit")
        rounds.append(time.perf_counter() - started)
    timings["derived per round"] = min(rounds)
    con.execute("checkpoint")

    # Maintenance: compacting one closed day (it is already in order here; the cost is the same).
    day = [s0 for s0, count, by_client in periods(slots) if count == 24][-1]
    started = time.perf_counter()
    con.execute("begin")
    compact_range(con, T0 + timedelta(hours=day), T0 + timedelta(hours=day + 24))
    con.execute("commit")
    con.execute("checkpoint")
    timings["compact a closed day"] = time.perf_counter() - started
    return timings


def drop_derived(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a bench store with its derived tables dropped and created again, empty (not through
    connect(), which would rebuild them at once from the history)."""
    con = duckdb.connect(str(path))
    configure(con)
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where table_name like 'derived_%'"
    ).fetchall():
        con.execute(f"drop table {table}")
    apply_ddl(con)
    return con


def best(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None, repeat: int) -> float:
    """Best wall time of `repeat` runs after a warm-up; results arrive as Arrow, as
    `pipeline query` reads them, through execute (pipeline.store.store.query_frame; building
    Python Decimals would dominate large answers)."""
    con.execute(sql, params or {}).to_arrow_table()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        con.execute(sql, params or {}).to_arrow_table()
        times.append(time.perf_counter() - started)
    return min(times)


def time_views(
    con: duckdb.DuckDBPyConnection, client: int, last_day: datetime, repeat: int
) -> tuple[float, dict[str, dict[str, float]]]:
    """Seconds per view and read, and the reference scan (best over the whole run)."""
    scan = best(con, REFERENCE.format(where=""), None, repeat)
    results: dict[str, dict[str, float]] = {}
    for view, (measure, time_column, has_currency, has_client) in VIEWS.items():
        sql = f"select count(*), {measure} from {view} {{where}}"
        reads = {"whole": ("", {})}
        if has_client:
            reads["client"] = ("where client_number = $client", {"client": client})
        if has_currency:
            reads["currency"] = ("where currency = 'BTC'", {})
        if time_column:
            # a day column is compared with the day (a DATE), instants with the instant
            since = last_day.date() if time_column == "day" else last_day
            reads["last day"] = (f"where {time_column} >= $since", {"since": since})
        results[view] = {
            read: best(con, sql.format(where=where), params, repeat)
            for read, (where, params) in reads.items()
        }
        print(f"  {view:26s} " + "  ".join(f"{k} {v:.3f}s" for k, v in results[view].items()))
    scan = min(scan, best(con, REFERENCE.format(where=""), None, repeat))
    return scan, results


def time_queries(
    con: duckdb.DuckDBPyConnection, client: int, last_day: datetime, repeat: int
) -> dict[str, float]:
    cases = {
        "client_history": {"client_number": str(client)},
        "house_exposure (BTC, last day)": {"currency": "BTC", "since": last_day.isoformat()},
        "house_exposure (all)": {},
        "implied_rate_history (BTC)": {"currency": "BTC"},
        "balances_as_of (now)": {"as_of": (last_day + timedelta(days=1)).isoformat()},
        "balances_as_of (a week ago)": {"as_of": (last_day - timedelta(days=6)).isoformat()},
        "largest_locked": {"limit": "20"},
    }
    results = {}
    for label, values in cases.items():
        query = load_query(label.split(" ")[0])
        results[label] = best(con, query.sql, bind(query, values), repeat)
        print(f"  {label:32s} {results[label]:.3f}s")
    return results


def bytes_per_line(con: duckdb.DuckDBPyConnection, lines: int) -> dict[str, float]:
    con.execute("checkpoint")
    tables = [
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where not temporary"
        ).fetchall()
    ]
    blocks = [
        (
            table,
            con.execute(
                "select count(distinct block_id) from pragma_storage_info($t) where persistent",
                {"t": table},
            ).fetchall()[0][0],
        )
        for table in tables
    ]
    block_size = con.execute("select block_size from pragma_database_size()").fetchall()[0][0]
    sizes = {name: count * block_size / lines for name, count in blocks}
    lines_tables = sizes.get("balance_lines", 0.0)
    derived = sum(v for k, v in sizes.items() if k.startswith("derived_"))
    # blocks in use, not the file's size (a file keeps the blocks freed by dropped tables)
    return {
        "all tables": sum(sizes.values()),
        "balance_lines": lines_tables,
        "derived_*": derived,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="2,000 × scale clients")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per read (best kept)")
    parser.add_argument("--db", type=Path, help="where to build the store (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="time the store at --db as it is")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="keep the base tables of the store at --db, rebuild only the derived facts",
    )
    parser.add_argument(
        "--memory-limit", default="10GB", help="DuckDB memory_limit (spills beyond it)"
    )
    args = parser.parse_args()

    clients = int(CLIENTS_PER_SCALE * args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.duckdb"
        if not (args.reuse or args.rebuild) and path.exists():
            path.unlink()
        con = drop_derived(path) if args.rebuild else connect(path)
        con.execute(f"set memory_limit = '{args.memory_limit}'")
        timings = {} if args.reuse else build(con, clients, SLOTS, base=not args.rebuild)
        lines = con.execute("select count(*) from balance_lines").fetchall()[0][0]
        newest = con.execute("select max(slot_start) from balance_snapshots").fetchall()[0][0]
        client = FIRST_CLIENT + clients // 2 + 3
        last_day = newest - timedelta(hours=23)
        print(f"book: {lines:,} lines, {clients:,} clients x {SLOTS} slots x 5 currencies")
        for label, seconds in timings.items():
            print(f"  build {label:20s} {seconds:8.2f} s")
        if timings:
            print(
                f"  derived facts built at {lines / timings['derived (replay)']:,.0f} lines/s,"
                f" {timings['derived (replay)'] / timings['lines copy (reference)']:.1f}x the time"
                " of writing the lines once more"
            )
        sizes = bytes_per_line(con, lines)
        print("bytes on disk per line: " + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()))
        print("views (best of", args.repeat, "after a warm-up):")
        scan, views = time_views(con, client, last_day, args.repeat)
        print("named queries:")
        queries = time_queries(con, client, last_day, args.repeat)
        con.close()

    report(scan, views, queries, sizes, timings)


def report(
    scan: float,
    views: dict[str, dict[str, float]],
    queries: dict[str, float],
    sizes: dict[str, float],
    timings: dict[str, float],
) -> None:
    ratio: Callable[[float], str] = lambda seconds: f"{seconds / scan:6.2f}x"  # noqa: E731
    speedup: Callable[[float | None], str] = lambda s: f"{scan / s:7.1f}x" if s else "      -"  # noqa: E731
    print()
    print(f"reference: bare aggregate scan of balance_lines {scan:.3f} s")
    print(f"{'view':26s} {'whole/scan':>11s} {'client':>8s} {'currency':>9s} {'last day':>9s}")
    print(f"{'':26s} {'':>11s} {'speedup':>8s} {'speedup':>9s} {'speedup':>9s}")
    for view, reads in views.items():
        print(
            f"{view:26s} {ratio(reads['whole']):>11s} {speedup(reads.get('client')):>8s}"
            f" {speedup(reads.get('currency')):>9s} {speedup(reads.get('last day')):>9s}"
        )
    worst_whole = max(views, key=lambda v: views[v]["whole"])
    clients = {v: r["client"] for v, r in views.items() if "client" in r}
    days = {v: r["last day"] for v, r in views.items() if "last day" in r}
    slow_client = max(clients, key=clients.__getitem__)
    slow_day = max(days, key=days.__getitem__)
    slow_query = max(queries, key=queries.__getitem__)
    print(
        f"ratios: worst whole-book/scan {views[worst_whole]['whole'] / scan:.2f} ({worst_whole},"
        f" target <= 3); slowest one-client read {scan / clients[slow_client]:.1f}x faster than"
        f" the scan ({slow_client}, target >= 10); slowest last-day read"
        f" {scan / days[slow_day]:.1f}x faster ({slow_day}, target >= 10); slowest named query"
        f" {queries[slow_query]:.2f} s ({slow_query}, target <= 1); {sizes['all tables']:.0f}"
        f" bytes on disk per line ({sizes['derived_*']:.0f} of them derived)"
        + (
            f"; a round's refresh {timings['derived per round']:.2f} s"
            if "derived per round" in timings
            else ""
        )
    )


if __name__ == "__main__":
    main()
