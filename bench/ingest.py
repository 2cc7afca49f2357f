"""Ingest of stored bodies: the project's route against DuckDB's from_json and a naive loop.

Builds a DuckDB file of `raw_responses` from the simulator's answers (`balance_body` for a
1,000-client book over 24 hourly slots, then the same day replicated with later slots until
the target number of lines), and times, each in its own process on its own copy of that file:

- project:      the same steps in one session with larger batches, timed step by step:
                `Store.pending_raw` -> `normalize_raw` (fast route, strict referee) ->
                `Store.append_snapshots`;
- project_no_derived, project_no_bitpacking: the same with the derived facts' refresh skipped,
                and with DuckDB's bit-packing disabled: what each costs, in the same run
                (measurements only: neither store is one the project would leave);
- ingest_range: `pipeline.rounds.ingest.ingest_range` as shipped (streamed batches of
                INGEST_BATCH_ROWS bodies, a short write session to read and another to
                append each batch, DuckDB's buffer pool capped for writers);
- from_json:    the issue's reference: DuckDB's DECIMAL-typed from_json in plain SQL writing
                both tables (bench/sql/from_json_*.sql: no validation, base currency assumed);
                exact on DuckDB 2.0, NOT on the pinned 1.5.5 (it reads through a double);
- sql_text:     an exact SQL reference on any version: amounts cut out of the text with
                regexp_extract_all, the rest through from_json (bench/sql/text_*.sql);
- naive:        `json.loads(parse_float=Decimal)` and one INSERT per row, on a sample.

Exactness is verified on meme-coin balances before timing (12345678901234567890.12345678
next to ...77, 0.00000001, 150000000000.12345678) for every route (the project's must be
exact; others are marked), and after timing the project's tables are compared row by row with
each exact reference's. Prints a table, then ratios.

    uv run python bench/ingest.py                # 1M lines (a few minutes on 2 cores)
    uv run python bench/ingest.py --scale 5      # 5M lines
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

import pipeline.store.store as store_module
from pipeline.normalize import RAW_SCHEMA, normalize_raw
from pipeline.rounds.ingest import ingest_range
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig
from pipeline.simulator.clients import client_book
from pipeline.simulator.responses import balance_body
from pipeline.store import Database, Store, connect, open_store

SQL = Path(__file__).resolve().parent / "sql"
BOOK_CLIENTS = 1_000
BOOK_HOURS = 24
BATCH_SLOTS = 96  # four days of a 1,000-client book: ~96k bodies, ~270k lines per batch
MEME = {  # currency: (balance, value, cash); float64 would merge or round every one of them
    "MEME": (
        "12345678901234567890.12345678",
        "150000000000000.01",
        "12345678901234567890.12345677",
    ),
    "DUST": ("0.00000001", "0.00", "0.00000001"),
    "PEPE": ("150000000000.12345678", "4686855.00", "150000000000.12345678"),
}


def sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def peak_rss_mb() -> float:
    """This process's peak resident set. VmHWM, not ru_maxrss: ru_maxrss survives exec, so a
    child would report its parent's size at fork time if that was larger."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- the data -------------------------------------------------------------------------------


def meme_body() -> str:
    data = ", ".join(
        f'{{"Currency": "{c}", "Balance": {b}, "Value_ILS": {v}, "Cash": {k}}}'
        for c, (b, v, k) in MEME.items()
    )
    return (
        '{"ResponseCode": 0, "ResponseMsgEng": "Client account is OK", "ERP_Account_Status": 5, '
        f'"Web_Account_Status": 2, "Agency": 0, "Data": [{data}], '
        '"Total_Floating_Balance_ILS": 150000004686855.01}'
    )


def seed_frame(bodies: list[tuple[int, datetime, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        bodies,
        schema={
            "client_number": pl.Int64,
            "slot_start": RAW_SCHEMA["slot_start"],
            "body": pl.String,
        },
        orient="row",
    )


def book_bodies() -> list[tuple[int, datetime, str]]:
    """One day of hourly answers of a 1,000-client book (the simulator's demo clients first)."""
    config = SimulatorConfig(n_extra_clients=BOOK_CLIENTS - 14)
    numbers = list(client_book(config.seed, config.n_extra_clients))
    slots = [SEED_EXAMPLE_INSTANT + timedelta(hours=h) for h in range(BOOK_HOURS)]
    return [(n, s, balance_body(config, n, s)[1].decode()) for s in slots for n in numbers]


def build_raw(path: Path, seed: list[tuple[int, datetime, str]], copies: int) -> int:
    """Write `copies` days of `seed` into raw_responses of a new database; return the rows."""
    con = connect(path)
    try:
        con.register("seed_raw", seed_frame(seed).to_arrow())
        con.execute(sql("replicate_raw"), {"copies": copies})
        con.execute("checkpoint")
        return con.execute("select count(*) from raw_responses").fetchall()[0][0]
    finally:
        con.close()


# --- the routes -----------------------------------------------------------------------------


def slot_range(store: Store) -> tuple[datetime, datetime]:
    first, last = store.con.execute(
        "select min(slot_start), max(slot_start) from raw_responses"
    ).fetchall()[0]
    return first, last + timedelta(hours=1)


def route_project(db: Path, batch_slots: int = BATCH_SLOTS, setting: str = "") -> dict[str, Any]:
    """pending_raw -> normalize_raw -> append_snapshots, `batch_slots` slots at a time.

    Fewer, larger batches mean fewer commits, and a commit that crosses DuckDB's WAL threshold
    checkpoints (measured: half of the append time at 24 slots per batch). `setting`: a DuckDB
    SET statement run first (the variants below).
    """
    timings = {"read": 0.0, "normalize": 0.0, "append": 0.0, "derived": 0.0}
    bodies = lines = fast = 0
    refresh = store_module.refresh_derived

    def timed_refresh(*args: Any, **kwargs: Any) -> int:
        # The derived facts the views read, refreshed inside append_snapshots' transaction:
        # work the references do not do, so the split shows it apart.
        started = time.perf_counter()
        try:
            return refresh(*args, **kwargs)
        finally:
            timings["derived"] += time.perf_counter() - started

    store_module.refresh_derived = timed_refresh
    with open_store(db) as store:
        if setting:
            store.con.execute(setting)
        start, end = slot_range(store)
        while start < end:
            stop = min(start + timedelta(hours=batch_slots), end)
            t0 = time.perf_counter()
            raw = store.pending_raw(start, stop)
            t1 = time.perf_counter()
            batch = normalize_raw(raw)
            t2 = time.perf_counter()
            _, added = store.append_snapshots(batch, start, stop)
            t3 = time.perf_counter()
            timings["read"] += t1 - t0
            timings["normalize"] += t2 - t1
            timings["append"] += t3 - t2
            bodies, lines, fast = bodies + raw.height, lines + added, fast + batch.fast_bodies
            start = stop
    return {"bodies": bodies, "lines": lines, "fast_share": fast / max(bodies, 1), **timings}


# Two variants of the one-session route that price what it writes beyond the references. Both
# are measurements only, never shipped: the first leaves a store without the facts the views
# read, the second one that takes about twice the blocks until compaction rewrites it.
def route_project_no_derived(db: Path, batch_slots: int = BATCH_SLOTS) -> dict[str, Any]:
    """The one-session route with the derived facts' refresh skipped: what they cost."""
    store_module.refresh_derived = lambda *args, **kwargs: 0
    return route_project(db, batch_slots)


def route_project_no_bitpacking(db: Path, batch_slots: int = BATCH_SLOTS) -> dict[str, Any]:
    """The one-session route with DuckDB's bit-packing disabled: the 128-bit integers behind
    DECIMAL(38,x) are then stored as they are, which is faster to write and larger."""
    return route_project(db, batch_slots, "set disabled_compression_methods = 'bitpacking'")


def route_ingest_range(db: Path) -> dict[str, Any]:
    """The project's ingest as shipped: streamed batches, a short write session for each."""
    database = Database(db)
    with database.writer() as store:
        start, end = slot_range(store)
    summary = ingest_range(database, start, end)
    return {"bodies": summary.raw_considered, "lines": summary.lines}


FROM_JSON_STRUCTURE = json.dumps(
    {
        "ResponseCode": "INTEGER",
        "ResponseMsgEng": "VARCHAR",
        "ERP_Account_Status": "INTEGER",
        "ERP_Account_Status_Text": "VARCHAR",
        "Web_Account_Status": "INTEGER",
        "Web_Account_Status_Text": "VARCHAR",
        "Agency": "INTEGER",
        "Data": [
            {
                "Currency": "VARCHAR",
                "Balance": "DECIMAL(38,8)",
                "Value_ILS": "DECIMAL(38,2)",
                "Cash": "DECIMAL(38,8)",
            }
        ],
        "Total_Floating_Balance_ILS": "DECIMAL(38,2)",
    }
)


def route_from_json(db: Path) -> dict[str, Any]:
    """The issue's reference: from_json with DECIMAL fields (exact on DuckDB 2.0, not 1.5.5)."""
    return run_sql_reference(db, "from_json_parse", "from_json_insert", FROM_JSON_STRUCTURE)


def route_sql_text(db: Path) -> dict[str, Any]:
    """An exact SQL reference on any version: amounts cut from the text by regexp_extract_all."""
    return run_sql_reference(db, "text_parse", "text_insert")


def run_sql_reference(db: Path, parse: str, insert: str, structure: str = "") -> dict[str, Any]:
    con = connect(db)
    try:
        con.execute("begin transaction")
        con.execute(sql(parse), {"structure": structure} if structure else {})
        con.execute(sql(insert))
        con.execute("commit")
        lines = con.execute("select count(*) from balance_lines").fetchall()[0][0]
        bodies = con.execute("select count(*) from balance_snapshots").fetchall()[0][0]
    finally:
        con.close()
    return {"bodies": bodies, "lines": lines}


def route_naive(db: Path, sample: int) -> dict[str, Any]:
    """json.loads(parse_float=Decimal) and a parameterized INSERT per snapshot and line."""
    con = connect(db)
    lines, parsing = 0, 0.0
    try:
        rows = con.execute(
            "select raw_id, client_number, slot_start, observed_at, body from raw_responses "
            "order by slot_start, client_number limit ?",
            [sample],
        ).fetchall()
        con.execute("begin transaction")
        for raw_id, client, slot, observed, body in rows:
            t0 = time.perf_counter()
            doc = json.loads(body, parse_float=Decimal)
            parsing += time.perf_counter() - t0
            code = int(doc["ResponseCode"])
            data = doc.get("Data")
            if code not in (0, 1) or (code == 0 and data is None):
                continue
            total_key = next((k for k in doc if k.startswith("Total_Floating_Balance_")), None)
            base = total_key.rsplit("_", 1)[1] if total_key else None
            con.execute(
                f"insert into balance_snapshots values ({', '.join('?' * 16)})",
                [
                    client,
                    slot,
                    raw_id,
                    observed,
                    code,
                    doc.get("ResponseMsgEng"),
                    doc.get("ERP_Account_Status"),
                    doc.get("ERP_Account_Status_Text"),
                    doc.get("Web_Account_Status"),
                    doc.get("Web_Account_Status_Text"),
                    doc.get("Agency"),
                    base,
                    doc.get(total_key) if total_key else None,
                    len(data or []),
                    code != 0,
                    raw_id,
                ],
            )
            for item in data or []:
                value = item[f"Value_{base}"]
                balance, cash = Decimal(item["Balance"]), Decimal(item["Cash"])
                rate = float(value) / float(balance) if balance else None
                con.execute(
                    "insert into balance_lines values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        client,
                        slot,
                        item["Currency"],
                        raw_id,
                        observed,
                        base,
                        balance,
                        value,
                        cash,
                        balance - cash,
                        rate,
                    ],
                )
                lines += 1
        con.execute("commit")
    finally:
        con.close()
    return {"bodies": len(rows), "lines": lines, "parse": parsing}


ROUTES: dict[str, Callable[..., dict[str, Any]]] = {
    "project": route_project,
    "project_no_derived": route_project_no_derived,
    "project_no_bitpacking": route_project_no_bitpacking,
    "ingest_range": route_ingest_range,
    "from_json": route_from_json,
    "sql_text": route_sql_text,
    "naive": route_naive,
}


def run_child(route: str, db: Path, option: int) -> None:
    """Time one route in this (fresh) process and print its figures as one JSON line."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_at_start = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    result = ROUTES[route](db, option) if option else ROUTES[route](db)
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads: DuckDB's and polars' too
    result |= {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_at_start,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(result))


def in_child(route: str, db: Path, option: int = 0) -> dict[str, Any]:
    """Run one route in a fresh process: its own peak RSS, no warm caches from another route."""
    args = [sys.executable, __file__, "--child", route, "--db", str(db), "--option", str(option)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"route {route} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- checks ---------------------------------------------------------------------------------


def check_exact(workdir: Path) -> set[str]:
    """Which routes store the meme-coin amounts digit for digit; the project's must."""
    source = workdir / "meme.duckdb"
    build_raw(source, [(900001, SEED_EXAMPLE_INSTANT, meme_body())], copies=1)
    expected = {
        c: (Decimal(b), Decimal(v), Decimal(k), Decimal(b) - Decimal(k))
        for c, (b, v, k) in MEME.items()
    }
    exact = set()
    for route in ROUTES:
        db = workdir / f"meme-{route}.duckdb"
        shutil.copy(source, db)
        in_child(route, db, option=10 if route == "naive" else 0)
        con = duckdb.connect(str(db), read_only=True)
        got = {
            c: (b, v, k, lk)
            for c, b, v, k, lk in con.execute(
                "select currency, balance, value_base, cash, locked from balance_lines"
            ).fetchall()
        }
        con.close()
        if got == expected:
            exact.add(route)
        else:
            print(f"NOT EXACT on duckdb {duckdb.__version__}: {route} stores {got['MEME'][0]}")
    if "project" not in exact:
        raise SystemExit("the project's route is not exact: no timing")
    print(f"exact ({', '.join(v[0] for v in MEME.values())}): {', '.join(sorted(exact))}")
    return exact


def check_same_tables(project: Path, reference: Path) -> None:
    """The project's tables equal the reference's (implied_rate to 1e-12: two float paths)."""
    con = duckdb.connect()
    con.execute(f"attach '{project}' as p (read_only)")
    con.execute(f"attach '{reference}' as r (read_only)")
    for table, columns in (
        ("balance_snapshots", "* exclude (raw_id, snapshot_id)"),
        ("balance_lines", "* exclude (implied_rate, snapshot_id)"),
    ):
        differ = con.execute(
            f"select count(*) from ((select {columns} from p.{table} except all "
            f"select {columns} from r.{table}) union all (select {columns} from r.{table} "
            f"except all select {columns} from p.{table}))"
        ).fetchall()[0][0]
        if differ:
            raise SystemExit(f"{table}: {differ} rows differ between project and reference")
    far = con.execute(
        "select count(*) from p.balance_lines as a join r.balance_lines as b "
        "using (client_number, slot_start, currency) "
        "where abs(a.implied_rate - b.implied_rate) > 1e-12 * abs(b.implied_rate)"
    ).fetchall()[0][0]
    con.close()
    if far:
        raise SystemExit(f"{far} implied rates differ between project and reference")
    print(f"same result: the project's tables equal {reference.stem}'s, row for row")


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="target lines at scale 1")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the target lines")
    parser.add_argument("--naive-sample", type=int, default=1_000, help="bodies for the naive loop")
    parser.add_argument("--batch-slots", type=int, default=BATCH_SLOTS, help="project batches")
    parser.add_argument("--skip-ingest-range", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs per route; the best counts")
    parser.add_argument("--workdir", type=Path, help="keep the databases here")
    parser.add_argument("--child", choices=sorted(ROUTES), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--option", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.db, args.option)
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        exact = check_exact(workdir)
        started = time.perf_counter()
        seed = book_bodies()
        per_day = normalize_raw(
            seed_frame(seed).with_columns(
                raw_id=pl.int_range(pl.len()).cast(pl.String),
                observed_at=pl.col("slot_start"),
            )
        ).lines.height
        copies = max(1, round(args.lines * args.scale / per_day))
        source = workdir / "raw.duckdb"
        bodies = build_raw(source, seed, copies)
        print(
            f"data: {bodies:,} stored bodies ({copies} days x {len(seed):,}; "
            f"{per_day * copies:,} lines) built in {time.perf_counter() - started:.0f} s"
        )

        routes = [r for r in ROUTES if not (r == "ingest_range" and args.skip_ingest_range)]
        results: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeat):  # interleaved, so a busy moment hits every route alike
            for route in routes:
                db = workdir / f"{route}.duckdb"
                shutil.copy(source, db)
                option = args.naive_sample if route == "naive" else 0
                if route.startswith("project"):
                    option = args.batch_slots
                run = in_child(route, db, option)
                run["grew_mb"] = (db.stat().st_size - source.stat().st_size) / 2**20
                if route not in results or run["seconds"] < results[route]["seconds"]:
                    results[route] = run
        for reference in ("from_json", "sql_text"):
            if reference in exact:
                check_same_tables(workdir / "project.duckdb", workdir / f"{reference}.duckdb")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        f"{'route':<23}{'bodies':>11}{'lines':>11}{'seconds':>9}{'cpu s':>8}{'lines/s':>11}"
        f"{'peak RSS':>10}{'file grew':>11}  exact"
    )
    for route, r in results.items():
        r["rate"] = r["lines"] / r["seconds"]
        r["cpu_rate"] = r["lines"] / r["cpu_seconds"]
        print(
            f"{route:<23}{r['bodies']:>11,}{r['lines']:>11,}{r['seconds']:>9.2f}"
            f"{r['cpu_seconds']:>8.2f}{r['rate']:>11,.0f}{r['peak_rss_mb']:>8.0f}MB"
            f"{r['grew_mb']:>9.0f}MB  {'yes' if route in exact else 'NO'}"
        )
    p = results["project"]
    print(
        f"project split: read {p['read']:.2f} s, normalize {p['normalize']:.2f} s, "
        f"append {p['append']:.2f} s (of which refreshing the derived facts "
        f"{p['derived']:.2f} s); {p['fast_share']:.1%} of bodies took the fast route"
    )
    from_json = results["from_json"]
    for variant, what in (
        ("project_no_derived", "without the derived facts (the views would lack them)"),
        ("project_no_bitpacking", "with bit-packing disabled (larger until compaction)"),
    ):
        v = results[variant]
        print(
            f"{variant}: append {v['append']:.2f} s instead of {p['append']:.2f} s "
            f"({v['cpu_seconds']:.1f} CPU-s instead of {p['cpu_seconds']:.1f}), "
            f"{v['grew_mb']:.0f} MB instead of {p['grew_mb']:.0f} MB written; "
            f"{v['rate'] / from_json['rate']:.2f} of from_json {what}"
        )
    # On two cores a route can use at most twice its wall time in CPU: the CPU-seconds of the
    # one-session route bound the best a perfectly overlapped route could do.
    budget = 2 * p["lines"] / (0.5 * from_json["rate"])
    print(
        f"CPU budget at 0.5 of from_json on 2 cores: {budget:.1f} CPU-s; the one-session route "
        f"uses {p['cpu_seconds']:.1f}, without the derived facts "
        f"{results['project_no_derived']['cpu_seconds']:.1f}"
    )
    n = results["naive"]
    print(
        f"naive split: json.loads {n['parse']:.2f} s ({n['lines'] / n['parse']:,.0f} lines/s), "
        f"row inserts {n['seconds'] - n['parse']:.2f} s"
    )
    ratios = []
    for ref in ("from_json", "sql_text", "ingest_range"):
        if ref == "ingest_range":
            continue
        wall = p["rate"] / results[ref]["rate"]
        cpu = p["cpu_rate"] / results[ref]["cpu_rate"]
        ratios.append(f"project/{ref} {wall:.2f} (per CPU second {cpu:.2f})")
    if "ingest_range" in results:
        shipped = results["ingest_range"]["rate"] / results["from_json"]["rate"]
        ratios.append(f"ingest_range/from_json {shipped:.2f}")
    ratios.append(f"project/naive {p['rate'] / n['rate']:.0f}")
    if "ingest_range" in results:  # the shipped route: the one the memory target is about
        ratios.append(f"ingest_range peak RSS {results['ingest_range']['peak_rss_mb']:.0f} MB")
    ratios.append(f"project (one session) peak RSS {p['peak_rss_mb']:.0f} MB")
    print(
        "ratios (targets: >= 0.5 of from_json, >= 10 of naive, RSS < 1024 MB): " + ", ".join(ratios)
    )


if __name__ == "__main__":
    main()
