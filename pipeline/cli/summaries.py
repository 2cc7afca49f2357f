"""Plain-text summaries the CLI prints after a run, read from the DuckDB file."""

from __future__ import annotations

from pathlib import Path

from pipeline.store import connect
from pipeline.store.sqlfiles import load_sql


def round_summary(db_path: Path, run_id: str, *, wait_seconds: float) -> str:
    # Another run may be writing by now: wait for its short sessions like any reader.
    con = connect(db_path, read_only=True, wait_seconds=wait_seconds)
    try:
        rows = con.execute(load_sql("store/run_outcomes"), {"run_id": run_id}).fetchall()
        counts = con.execute(load_sql("store/table_counts")).fetchall()
    finally:
        con.close()
    outcomes = ", ".join(f"{outcome} {n}" for outcome, n in rows) or "nothing to poll (complete)"
    tables = ", ".join(f"{name} {n}" for name, n in counts)
    return f"round {run_id[:8]}: final outcomes per client: {outcomes}\ntables: {tables}"


def demo_summary(db_path: Path, *, seconds: float, wait_seconds: float) -> str:
    con = connect(db_path, read_only=True, wait_seconds=wait_seconds)
    try:
        row = con.execute(load_sql("store/demo_summary")).fetchone()
    finally:
        con.close()
    assert row is not None  # an aggregate query answers one row, even on empty tables
    clients, snapshots, lines, currencies, first, last, attempts = row
    return "\n".join(
        [
            f"backfill finished in {seconds:.1f} s",
            f"  clients:     {clients}",
            f"  snapshots:   {snapshots}",
            f"  lines:       {lines}",
            f"  currencies:  {currencies}",
            f"  attempts:    {attempts}",
            f"  time range:  {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC"
            if first
            else "  time range:  (empty)",
            f"  database:    {db_path.resolve()}",
        ]
    )
