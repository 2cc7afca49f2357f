"""Slot checks read one slot, whatever the size of the book.

Builds a synthetic book (clients x slots x 5 currencies, values varied so DuckDB's column
statistics cannot answer for it), then times each slot check on the newest slot against the same
check over the whole book, in the same run. Prints the ratio whole/one-slot per check (the
hourly poll pays the one-slot figure; the daily book checks the whole-book one).

    uv run python bench/slot_checks.py [--clients 2000] [--slots 500]   # 5M lines, ~1 minute
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.analytics.checks import SLOT_CHECKS, evaluate, evaluate_slots
from pipeline.store import connect

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build(path: Path, clients: int, slots: int) -> None:
    con = connect(path)
    params = {"t0": T0, "clients": clients, "slots": slots}
    con.execute(
        """
        insert into balance_snapshots
        select c, $t0 + s * interval 1 hour, c || '-' || s, $t0 + s * interval 1 hour, 0, 'ok',
            5, 'e', 2, 'w', 0, 'ILS', sum_value, 5, false, 'r'
        from (
            select c, s, sum((c % 97 + 1 + s % 5) * (10 + s % 11))::decimal(38, 2) * 5 as sum_value
            from range($clients) t(c), range($slots) u(s)
            group by c, s
        )
        """,
        params,
    )
    con.execute(
        """
        insert into balance_lines
        select c, $t0 + s * interval 1 hour, cur, c || '-' || s, $t0 + s * interval 1 hour, 'ILS',
            (c % 97 + 1 + s % 5)::decimal(38, 8),
            ((c % 97 + 1 + s % 5) * (10 + s % 11))::decimal(38, 2),
            (c % 97 + 1 + s % 5 - c % 3)::decimal(38, 8),
            (c % 3)::decimal(38, 8),
            (10 + s % 11)::double + (c % 1000) * 1e-9
        from range($clients) t(c), range($slots) u(s),
            (values ('A'), ('B'), ('C'), ('D'), ('E')) v(cur)
        """,
        params,
    )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--slots", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.duckdb"
        build(path, args.clients, args.slots)
        con = connect(path)
        (lines,) = con.execute("select count(*) from balance_lines").fetchall()[0]
        print(f"book: {lines:,} lines in {args.slots} slots")
        newest = T0 + timedelta(hours=args.slots - 1)
        for check in SLOT_CHECKS:
            started = time.perf_counter()
            evaluate_slots(con, check, [(newest, newest + timedelta(hours=1))])
            one = time.perf_counter() - started
            started = time.perf_counter()
            evaluate(con, check, now=newest, max_age=timedelta(hours=2))
            whole = time.perf_counter() - started
            print(
                f"{check.name:40s} one slot {one:7.3f} s  whole book {whole:7.3f} s  "
                f"ratio {whole / one:6.1f}"
            )
        con.close()


if __name__ == "__main__":
    main()
