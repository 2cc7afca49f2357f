"""Derived facts: what the views need from neighbouring observations, computed at write time.

The views that compare consecutive observations (balance_line_pairs, balance_intervals,
locked_episodes, observed_snapshots, account_status_history, daily_balances, ...) used to run
windows over the whole book on every query. The `derived_*` tables (sql/ddl/003_derived.sql)
hold those facts instead, and the views read them. Every write of snapshots and lines must be
followed, in the same transaction, by `refresh_derived` over the written slot range; replay calls
it for each rebuilt range. A refresh is incremental and idempotent: it recomputes only the rows
owned by the range's snapshots and by the next observation after them, and carries the running
state (interval, episode and status numbering) on to later rows only when it changed.

Nothing here begins or commits a transaction: callers run it inside their own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import duckdb

from pipeline.store.sqlfiles import load_sql

# Open ends of a slot range, as instants DuckDB and Python both hold.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

# (table, its recomputed temp table, the column naming the owning snapshot, storage order).
# Rows are owned by one snapshot of their client: a refresh replaces what its snapshots own.
CLIENT_TABLES: tuple[tuple[str, str, str, str], ...] = (
    ("derived_snapshots", "derived_new_snapshots", "slot_start", "client_number, slot_start"),
    (
        "derived_observed_snapshots",
        "derived_new_observed_snapshots",
        "next_slot_start",
        "client_number, slot_start",
    ),
    ("derived_client_tail", "derived_new_client_tail", "slot_start", "client_number, slot_start"),
    (
        "derived_line_pairs",
        "derived_new_line_pairs",
        "slot_start",
        "client_number, slot_start, currency",
    ),
    (
        "derived_line_tail",
        "derived_new_line_tail",
        "slot_start",
        "client_number, slot_start, currency",
    ),
    (
        "derived_day_end_lines",
        "derived_new_day_end_lines",
        "next_slot_start",
        "client_number, slot_start, currency",
    ),
)
# Per-slot tables: owned by the slot, over all clients.
SLOT_TABLES: tuple[tuple[str, str, str], ...] = (
    ("derived_slot_totals", "derived_new_slot_totals", "slot_start, currency, base_currency"),
    (
        "derived_fx_rate_outliers",
        "derived_new_fx_rate_outliers",
        "slot_start, client_number, currency",
    ),
)
DERIVED_TABLES: tuple[str, ...] = tuple(t[0] for t in CLIENT_TABLES + SLOT_TABLES)

_COMMENT = re.compile(r"--[^\n]*")
_COMPUTE = [
    "derived/window_snapshots",
    "derived/window_lines",
    "derived/new_snapshots",
    "derived/base_line_state",
    "derived/new_line_pairs",
    "derived/new_observed_snapshots",
    "derived/new_day_end_lines",
    "derived/new_client_tail",
    "derived/new_line_tail",
]
_SLOT_COMPUTE = [
    "derived/slot_stats",
    "derived/new_fx_rate_outliers",
    "derived/new_slot_totals",
]


def refresh_derived(
    con: duckdb.DuckDBPyConnection,
    slot_from: datetime | None = None,
    slot_to: datetime | None = None,
    *,
    client: int | None = None,
    propagate: bool = True,
) -> int:
    """Make the derived rows of the snapshots in [slot_from, slot_to) match the stored history.

    Call it after snapshots and lines of that range were written, replaced or deleted, in the
    same transaction. Appending the newest slot only inserts; a range in the past also rewrites
    the next observation of each client after it and, when the running state carried past it
    changed (a late snapshot that starts a new interval), the rest of those clients' history.

    Args:
        con: a writable connection (or one whose derived tables are temporary).
        slot_from: first slot, inclusive; None for the beginning.
        slot_to: last slot, exclusive; None for the end.
        client: only this client's rows (a replay of one client).
        propagate: False only when the caller refreshes the following range next, in order.

    Returns:
        How many clients had rows recomputed.
    """
    lo, hi = slot_from or EARLIEST, slot_to or LATEST
    _ensure_restrict(con)
    clients = _refresh_clients(con, lo, hi, client=client, restrict=False, extend=True)
    _refresh_slots(con, lo, hi)
    if propagate:
        pending = con.execute("select client_number, upper_slot from derived_propagate").fetchall()
        if pending:
            # Their later rows carry a state that changed: recompute each one's whole future.
            con.execute("delete from derived_restrict")
            con.executemany(
                "insert into derived_restrict values (?)", [[number] for number, _ in pending]
            )
            start = min(upper for _, upper in pending)
            clients += _refresh_clients(con, start, LATEST, client=None, restrict=True, extend=True)
    return clients


def rebuild_derived(con: duckdb.DuckDBPyConnection, *, batch_snapshots: int = 200_000) -> int:
    """Recompute every derived row from the stored history, in slot order and batches.

    For a database written before the derived tables existed, or after they were lost. Each
    batch carries its state to the next one, so memory stays bounded by the batch.

    Returns:
        How many batches were computed.
    """
    for table in DERIVED_TABLES:
        con.execute(f"delete from {table}")  # noqa: S608 - names are constants
    _ensure_restrict(con)
    slots = con.execute(
        "select slot_start, count(*) from balance_snapshots group by all order by 1"
    ).fetchall()
    batches = 0
    start: datetime | None = None
    rows = 0
    for index, (slot, count) in enumerate(slots):
        start = start or slot
        rows += count
        last = index == len(slots) - 1
        if rows >= batch_snapshots or last:
            end = LATEST if last else slots[index + 1][0]
            _refresh_clients(con, start, end, client=None, restrict=False, extend=False)
            _refresh_slots(con, start, end)
            batches += 1
            start, rows = None, 0
    return batches


def ensure_derived(con: duckdb.DuckDBPyConnection) -> bool:
    """Build the derived rows when history exists without them (a database from before them).

    Returns:
        True when a rebuild ran.
    """
    derived, history = con.execute(
        "select (select count(*) from derived_snapshots), (select count(*) from balance_snapshots)"
    ).fetchone() or (0, 0)
    if derived or not history:
        return False
    rebuild_derived(con)
    return True


def prepare_readonly(con: duckdb.DuckDBPyConnection) -> bool:
    """Give a read-only connection derived rows when its file lacks them (an older file).

    They are computed into temporary tables of the same names, which the views then read; the
    file is not touched. Returns True when that happened.
    """
    present = {
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database()"
            " and schema_name = 'main'"
        ).fetchall()
    }
    if set(DERIVED_TABLES) <= present:
        derived, history = con.execute(
            "select (select count(*) from derived_snapshots),"
            " (select count(*) from balance_snapshots)"
        ).fetchone() or (0, 0)
        if derived or not history:
            return False
    ddl = load_sql("ddl/003_derived").replace(
        "create table if not exists ", "create or replace temp table "
    )
    con.execute(ddl)
    rebuild_derived(con)
    return True


def compact_range(con: duckdb.DuckDBPyConnection, slot_from: datetime, slot_to: datetime) -> None:
    """Rewrite a closed period's rows clustered by client (maintenance, an exclusive job).

    Rounds append slot after slot, so one client's rows are spread over every row group; once a
    period is closed (no more late answers expected), rewriting it ordered by (client, slot)
    lets one-client reads skip all but a few row groups while time-range reads still skip the
    other periods. The tail tables keep only each client's newest row of the period. Run it
    inside a transaction.
    """
    params = {"from": slot_from, "to": slot_to}
    for table, order, stage in _COMPACTED:
        con.execute(load_sql(stage).format(table=table), params)
        con.execute(load_sql("derived/compact_delete").format(table=table), params)
        con.execute(load_sql("derived/compact_insert").format(table=table, order=order))


# Tables rewritten by compact_range (their slot column is slot_start): their order and the
# statement that copies the rows to keep aside.
_KEEP_ALL = "derived/compact_stage"
_COMPACTED: tuple[tuple[str, str, str], ...] = (
    ("balance_lines", "client_number, slot_start, currency", _KEEP_ALL),
    ("balance_snapshots", "client_number, slot_start", _KEEP_ALL),
    ("fetch_attempts", "client_number, slot_start, run_id, attempt", _KEEP_ALL),
    ("derived_snapshots", "client_number, slot_start", _KEEP_ALL),
    ("derived_observed_snapshots", "client_number, slot_start", _KEEP_ALL),
    ("derived_line_pairs", "client_number, slot_start, currency", _KEEP_ALL),
    ("derived_day_end_lines", "client_number, slot_start, currency", _KEEP_ALL),
    ("derived_slot_totals", "slot_start, currency, base_currency", _KEEP_ALL),
    ("derived_fx_rate_outliers", "slot_start, client_number, currency", _KEEP_ALL),
    ("derived_client_tail", "client_number, slot_start", "derived/compact_client_tail_keep"),
    ("derived_line_tail", "client_number, slot_start, currency", "derived/compact_line_tail_keep"),
)


def _ensure_restrict(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create temp table if not exists derived_restrict (client_number bigint)")


def _no_propagation(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create or replace temp table derived_propagate"
        " (client_number bigint, upper_slot timestamptz)"
    )


def _refresh_clients(
    con: duckdb.DuckDBPyConnection,
    lo: datetime,
    hi: datetime,
    *,
    client: int | None,
    restrict: bool,
    extend: bool,
) -> int:
    """Recompute and replace the client-owned derived rows of [lo, hi); return the clients."""
    params = {"from": lo, "to": hi, "extend": extend}
    scope = {**params, "client": client, "restrict": restrict}
    con.execute(load_sql("derived/scope"), _used("derived/scope", scope))
    clients = con.execute("select count(*) from derived_scope").fetchone()
    if not clients or not clients[0]:
        _no_propagation(con)
        return 0
    for name in _COMPUTE:
        con.execute(load_sql(name), _used(name, params))
    if extend:
        con.execute(load_sql("derived/propagate"), {"from": lo})
    else:
        _no_propagation(con)
    stored = con.execute(
        load_sql("derived/has_stored"), _used("derived/has_stored", params)
    ).fetchone()
    for table, new_table, owner, order in CLIENT_TABLES:
        if stored and stored[0]:
            delete = load_sql("derived/delete_owned").format(table=table, owner=owner)
            con.execute(delete, params)
        con.execute(
            load_sql("derived/insert_new").format(table=table, new_table=new_table, order=order)
        )
    return int(clients[0])


def _refresh_slots(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime) -> None:
    """Recompute and replace the per-slot rows of [lo, hi)."""
    params = {"from": lo, "to": hi}
    for name in _SLOT_COMPUTE:
        con.execute(load_sql(name), _used(name, params))
    stored = con.execute(load_sql("derived/has_slot_rows"), params).fetchone()
    for table, new_table, order in SLOT_TABLES:
        if stored and stored[0]:
            con.execute(load_sql("derived/delete_slots").format(table=table), params)
        con.execute(
            load_sql("derived/insert_new").format(table=table, new_table=new_table, order=order)
        )


def _used(name: str, params: dict[str, object]) -> dict[str, object]:
    """The parameters a statement names (DuckDB refuses unused named parameters)."""
    sql = _COMMENT.sub("", load_sql(name))
    return {key: value for key, value in params.items() if re.search(rf"\${key}\b", sql)}
