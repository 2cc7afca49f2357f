"""Derived facts: what the views need from neighbouring observations, computed at write time.

The views that compare consecutive observations (balance_line_pairs, balance_intervals,
locked_episodes, observed_snapshots, account_status_history, daily_balances, ...) used to run
windows over the whole book on every query. The `derived_*` tables (sql/ddl/004_derived.sql)
hold those facts instead, and the views read them. Every write of snapshots, lines or attempts
must be followed, in the same transaction, by `refresh_derived` over the written slot range;
replay calls it for each rebuilt range. A refresh is incremental and idempotent: per client it
starts from the state stored after its last refresh before the range (its tail), recomputes the
rows owned by the snapshots from there to just past the range, and goes on to the client's later
rows only when the state it leaves there changed. Appending the newest slot only inserts.

Closed periods are rewritten clustered by client (`compact_range`, `compaction_periods`) so that
one-client and time-range reads skip most row groups. Nothing here begins or commits a
transaction: callers run it inside their own.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from pipeline.store.sqlfiles import load_sql

# Open ends of a slot range, as instants both DuckDB and Python hold.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

# (table, its recomputed temp table, the column naming the owning snapshot, storage order).
# A row is owned by one snapshot of its client; a refresh replaces what its snapshots own.
CLIENT_TABLES: tuple[tuple[str, str, str, str], ...] = (
    ("derived_snapshots", "derived_new_snapshots", "slot_start", "client_number, slot_start"),
    (
        "derived_observed_snapshots",
        "derived_new_observed_snapshots",
        "next_slot_start",
        "client_number, slot_start",
    ),
    (
        "derived_line_pairs",
        "derived_new_line_pairs",
        "slot_start",
        "client_number, slot_start, currency",
    ),
    (
        "derived_closed_intervals",
        "derived_new_closed_intervals",
        "valid_to",
        "client_number, valid_to, currency",
    ),
    (
        "derived_closed_episodes",
        "derived_new_closed_episodes",
        "episode_end",
        "client_number, episode_end, currency",
    ),
    (
        "derived_closed_status",
        "derived_new_closed_status",
        "valid_to",
        "client_number, valid_to",
    ),
    (
        "derived_day_end_lines",
        "derived_new_day_end_lines",
        "next_slot_start",
        "client_number, day, currency",
    ),
    ("derived_client_tail", "derived_new_client_tail", "slot_start", "client_number, slot_start"),
    (
        "derived_line_tail",
        "derived_new_line_tail",
        "tail_slot",
        "client_number, tail_slot, currency",
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
    ("derived_polled_slots", "derived_new_polled_slots", "slot_start"),
    ("derived_repeat_attempts", "derived_new_repeat_attempts", "client_number, slot_start"),
)
DERIVED_TABLES: tuple[str, ...] = tuple(t[0] for t in CLIENT_TABLES + SLOT_TABLES)
# The contract tables each derived table is computed from: a view reading a derived table
# depends on these (Dagster's lineage shows the views under the tables, not the machinery).
SOURCES: dict[str, tuple[str, ...]] = {
    "derived_snapshots": ("balance_snapshots", "balance_lines"),
    "derived_observed_snapshots": ("balance_snapshots",),
    "derived_line_pairs": ("balance_lines",),
    "derived_closed_intervals": ("balance_lines",),
    "derived_closed_episodes": ("balance_lines",),
    "derived_closed_status": ("balance_snapshots",),
    "derived_day_end_lines": ("balance_lines",),
    "derived_client_tail": ("balance_snapshots",),
    "derived_line_tail": ("balance_lines",),
    "derived_slot_totals": ("balance_lines",),
    "derived_fx_rate_outliers": ("balance_lines",),
    "derived_polled_slots": ("fetch_attempts",),
    "derived_repeat_attempts": ("fetch_attempts",),
}

# The statements that compute a refresh's rows into temp tables, in order.
_CLIENT_STEPS = (
    "derived/window_snapshots",
    "derived/window_clients",
    "derived/window_lines",
    "derived/new_snapshots",
    "derived/new_observed_snapshots",
    "derived/new_day_end_lines",
    "derived/new_line_pairs",
    "derived/new_line_pair_rows",
    "derived/pair_events",
    "derived/base_line_state",
    "derived/new_interval_starts",
    "derived/new_closed_intervals",
    "derived/new_plateaus",
    "derived/new_episodes",
    "derived/new_closed_episodes",
    "derived/new_status_starts",
    "derived/new_closed_status",
    "derived/new_client_tail",
    "derived/new_line_tail",
)
_SLOT_STEPS = (
    "derived/slot_stats",
    "derived/new_fx_rate_outliers",
    "derived/new_slot_totals",
    "derived/new_polled_slots",
    "derived/new_repeat_attempts",
)

# Tables rewritten by compact_range: the column placing a row in time, the storage order, and
# the statement that sets aside the rows to keep (the tails keep each client's newest only).
_KEEP_ALL = "derived/compact_stage"
_COMPACTED: tuple[tuple[str, str, str, str], ...] = (
    # Raw answers too: a replay of a compacted period reads them by client range.
    (
        "raw_responses",
        "slot_start",
        "client_number, slot_start, observed_at, raw_id",
        _KEEP_ALL,
    ),
    ("balance_lines", "slot_start", "client_number, slot_start, currency", _KEEP_ALL),
    ("balance_snapshots", "slot_start", "client_number, slot_start", _KEEP_ALL),
    ("fetch_attempts", "slot_start", "client_number, slot_start, run_id, attempt", _KEEP_ALL),
    ("derived_snapshots", "slot_start", "client_number, slot_start", _KEEP_ALL),
    ("derived_observed_snapshots", "slot_start", "client_number, slot_start", _KEEP_ALL),
    ("derived_line_pairs", "slot_start", "client_number, slot_start, currency", _KEEP_ALL),
    ("derived_day_end_lines", "slot_start", "client_number, day, currency", _KEEP_ALL),
    ("derived_closed_intervals", "valid_to", "client_number, valid_to, currency", _KEEP_ALL),
    ("derived_closed_episodes", "episode_end", "client_number, episode_end, currency", _KEEP_ALL),
    ("derived_closed_status", "valid_to", "client_number, valid_to", _KEEP_ALL),
    ("derived_slot_totals", "slot_start", "slot_start, currency, base_currency", _KEEP_ALL),
    ("derived_fx_rate_outliers", "slot_start", "slot_start, client_number, currency", _KEEP_ALL),
    ("derived_polled_slots", "slot_start", "slot_start", _KEEP_ALL),
    ("derived_repeat_attempts", "slot_start", "client_number, slot_start", _KEEP_ALL),
    (
        "derived_client_tail",
        "slot_start",
        "client_number, slot_start",
        "derived/compact_client_tail_keep",
    ),
    (
        "derived_line_tail",
        "tail_slot",
        "client_number, tail_slot, currency",
        "derived/compact_line_tail_keep",
    ),
)

_COMMENT = re.compile(r"--[^\n]*")


def refresh_derived(
    con: duckdb.DuckDBPyConnection,
    slot_from: datetime | None = None,
    slot_to: datetime | None = None,
    *,
    client: int | None = None,
    clients: tuple[int, int] | None = None,
    propagate: bool = True,
    slot_facts: bool = True,
) -> int:
    """Make the derived rows of the snapshots in [slot_from, slot_to) match the stored history.

    Call it after snapshots and lines of that range were written, replaced or deleted, and after
    every round's attempts (the polled slots), in the same transaction. Each client's refresh
    starts from its newest state stored before the range (its tail) and recomputes what follows
    through its second observation after the range; appending the newest slot only inserts.
    When the state after that differs from the stored one (a late snapshot that starts a new
    interval), the rest of those clients' history is recomputed too.

    Args:
        con: a writable connection (or one whose derived tables are temporary).
        slot_from: first slot, inclusive; None for the beginning.
        slot_to: last slot, exclusive; None for the end.
        client: only this client's rows (a replay of one client).
        clients: only the clients in this inclusive range (a replay batch of a compacted period).
        propagate: False only when the caller refreshes the following range next (a replay's
            batches, in slot order): the refresh then stops at slot_to and leaves the state
            there for the next batch; the last batch, with True, carries it on to later rows.
        slot_facts: False leaves the per-slot facts (computed over all clients) to the caller,
            which refreshes them once for the range (refresh_slot_facts) after its last batch of
            client ranges: recomputing them in each would read the whole range every time.

    Returns:
        How many clients had rows recomputed.
    """
    lo, hi = slot_from or EARLIEST, slot_to or LATEST
    scope = (client, client) if client is not None else clients
    _run(con, "derived/restrict_none")
    count = _refresh_clients(con, lo, hi, clients=scope, restrict=False, extend=propagate)
    if slot_facts:
        _refresh_slots(con, lo, hi)
    if propagate:
        upper = _scalar(con, "derived/propagate_from")
        if upper is not None:
            # Their later rows carry a state that changed: recompute the rest of their history,
            # from the state just stored at the end of their windows.
            _run(con, "derived/restrict_to_propagate")
            start = upper + timedelta(microseconds=1)
            count += _refresh_clients(con, start, LATEST, clients=None, restrict=True, extend=True)
    _drop_scratch(con)
    return count


def refresh_slot_facts(
    con: duckdb.DuckDBPyConnection, slot_from: datetime, slot_to: datetime, *, force: bool
) -> bool:
    """Recompute the per-slot facts of [slot_from, slot_to) over every client, and rewrite them
    when `force` or when they differ from the stored ones.

    For callers that refreshed client ranges with `slot_facts=False` (a replay of a compacted
    period, one transaction per range): `force` when any of them changed something. Comparing
    otherwise repairs facts an interrupted run left behind, and writes nothing when they hold.

    Returns:
        True when the stored facts were rewritten.
    """
    steps, tables = _SLOT_STEPS, tuple(t[0] for t in SLOT_TABLES)
    return _rewrite_slot_tables(con, slot_from, slot_to, steps, tables, force=force)


def _rewrite_slot_tables(
    con: duckdb.DuckDBPyConnection,
    slot_from: datetime,
    slot_to: datetime,
    steps: Sequence[str],
    tables: Collection[str],
    *,
    force: bool,
) -> bool:
    """Recompute `tables` (per-slot) for [slot_from, slot_to) with `steps`; rewrite them when
    `force` or when any differs from its stored rows. Returns whether they were rewritten."""
    params = {"from": slot_from, "to": slot_to}
    for step in steps:
        _run(con, step, params)
    chosen = [t for t in SLOT_TABLES if t[0] in tables]
    differ = force or any(
        _scalar(con, "derived/slot_rows_differ", params, table=table, new_table=new_table)
        for table, new_table, _ in chosen
    )
    if differ:
        for table, new_table, order in chosen:
            _run(con, "derived/delete_slots", params, table=table)
            _run(con, "derived/insert_new", table=table, new_table=new_table, order=order)
    _drop_scratch(con)
    return differ


# The per-slot facts computed from fetch_attempts alone (with their steps): the only derived
# rows a write that stores no snapshot or line can leave behind (see refresh_attempt_facts).
_ATTEMPT_STEPS = ("derived/new_polled_slots", "derived/new_repeat_attempts")
_ATTEMPT_TABLES = ("derived_polled_slots", "derived_repeat_attempts")


def refresh_attempt_facts(
    con: duckdb.DuckDBPyConnection, slot_from: datetime, slot_to: datetime
) -> bool:
    """`refresh_derived` for a write that stored no snapshot or line in [slot_from, slot_to).

    Every write of snapshots or lines refreshes in its own transaction, so then only the facts
    that follow fetch_attempts (landed without a refresh) can be stale. They are recomputed and
    compared with the stored ones, and rewritten only when they differ: a re-run that finds its
    slots complete writes nothing (a full no-op refresh costs ~0.2 s on a file and ~2.6 s on a
    lake, where every statement is a catalog round trip and every insert a data file).

    Returns:
        True when the stored facts were rewritten.
    """
    return _rewrite_slot_tables(
        con, slot_from, slot_to, _ATTEMPT_STEPS, _ATTEMPT_TABLES, force=False
    )


def rebuild_derived(
    con: duckdb.DuckDBPyConnection,
    *,
    batch_snapshots: int = 200_000,
    batches: Sequence[tuple[datetime, datetime]] | None = None,
) -> int:
    """Recompute every derived row from the stored history, in slot order and in batches.

    For a database written before the derived tables existed (or repaired by hand). Each batch
    carries its state into the next one, so memory stays bounded by the batch; its rows are
    stored clustered by client, so batches that follow compaction periods leave that layout.

    Args:
        con: the connection (its derived tables are emptied first).
        batch_snapshots: about how many snapshots per batch, in whole slots.
        batches: explicit [from, to) ranges instead, consecutive and in slot order; history
            after the last one is left to later refreshes.

    Returns:
        How many batches were computed.
    """
    for table in DERIVED_TABLES:
        _run(con, "derived/clear", table=table)
    _run(con, "derived/restrict_none")
    ranges = list(batches) if batches is not None else _batches(con, batch_snapshots)
    for start, end in ranges:
        _refresh_clients(con, start, end, clients=None, restrict=False, extend=False)
        _refresh_slots(con, start, end)
    _drop_scratch(con)
    return len(ranges)


def _batches(
    con: duckdb.DuckDBPyConnection, batch_snapshots: int
) -> list[tuple[datetime, datetime]]:
    """Consecutive whole-slot ranges of about `batch_snapshots` snapshots, to the end of time."""
    slots = con.execute(load_sql("derived/batches")).fetchall()
    ranges: list[tuple[datetime, datetime]] = []
    start: datetime | None = None
    rows = 0
    for index, (slot, count) in enumerate(slots):
        start = start or slot
        rows += count
        last = index == len(slots) - 1
        if rows >= batch_snapshots or last:
            ranges.append((start, LATEST if last else slots[index + 1][0]))
            start, rows = None, 0
    return ranges


def ensure_derived(con: duckdb.DuckDBPyConnection) -> bool:
    """Build the derived rows when history exists without any (a database from before them).

    Returns:
        True when a rebuild ran.
    """
    derived_rows, snapshots = con.execute(load_sql("derived/counts")).fetchall()[0]
    if derived_rows or not snapshots:
        return False
    rebuild_derived(con)
    return True


def prepare_readonly(con: duckdb.DuckDBPyConnection) -> bool:
    """Give a read-only connection derived rows when its file lacks them (an older file).

    They are computed into temporary tables of the same names, which the views then read; the
    file is not touched.

    Returns:
        True when they had to be computed.
    """
    present = {row[0] for row in con.execute(load_sql("derived/tables_present")).fetchall()}
    if set(DERIVED_TABLES) <= present:
        derived_rows, snapshots = con.execute(load_sql("derived/counts")).fetchall()[0]
        if derived_rows or not snapshots:
            return False
    derive_temporary(con)
    return True


def derive_temporary(con: duckdb.DuckDBPyConnection) -> None:
    """Compute the derived rows into temporary tables of this connection, from the base tables
    it sees: an older file's (prepare_readonly), or a period's temporary copies (the report's
    scope), which then shadow the stored ones. The file is not touched."""
    ddl = load_sql("ddl/004_derived")
    con.execute(ddl.replace("create table if not exists ", "create or replace temp table "))
    rebuild_derived(con)


def compact_range(
    con: duckdb.DuckDBPyConnection,
    slot_from: datetime,
    slot_to: datetime,
    *,
    skip: Collection[str] = (),
) -> None:
    """Rewrite a closed period's rows clustered by client (maintenance: an exclusive job).

    Rounds append slot after slot, so one client's rows end up in every row group; once a
    period is closed (no late answers expected), rewriting it ordered by (client, slot) lets
    one-client reads skip all but a row group or two per period, while time-range reads still
    skip the other periods. The tail tables keep only each client's newest rows of the period.
    Run it inside a transaction. `skip` names tables to leave as they are (on a lake, those
    that concurrent rounds append to: a rewrite beside their inserts would fail to commit).
    """
    params = {"from": slot_from, "to": slot_to}
    for table, slot, order, keep in _COMPACTED:
        if table in skip:
            continue
        _run(con, keep, params, table=table, slot=slot)
        _run(con, "derived/compact_delete", params, table=table, slot=slot)
        _run(con, "derived/compact_insert", table=table, order=order)
    _drop_scratch(con)


def compaction_periods(
    first_slot: datetime, newest_slot: datetime
) -> list[tuple[datetime, datetime]]:
    """The periods a store holding [first_slot, newest_slot] is kept compacted by, oldest first.

    Whole UTC weeks (from Monday 00:00) once they ended more than a day before newest_slot's
    day, then the days of the current week before today; today stays in slot order. One-client
    reads then touch a row group or two per period, and the last 24 hours stay in slot-ordered
    or day-sized row groups, so both kinds of read skip most of the table. A daily maintenance
    run compacts yesterday, and on the second day of a week the week before (compact_range).
    """
    today = newest_slot.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    if today - week < timedelta(days=1):  # on Mondays last week is still kept by day
        week -= timedelta(days=7)
    start = first_slot.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=start.weekday())
    periods: list[tuple[datetime, datetime]] = []
    while start < week:
        periods.append((start, start + timedelta(days=7)))
        start += timedelta(days=7)
    while start < today:
        periods.append((start, start + timedelta(days=1)))
        start += timedelta(days=1)
    return periods


def _refresh_clients(
    con: duckdb.DuckDBPyConnection,
    lo: datetime,
    hi: datetime,
    *,
    clients: tuple[int, int] | None,
    restrict: bool,
    extend: bool,
) -> int:
    """Recompute and replace the client-owned derived rows of [lo, hi); return the clients."""
    params: dict[str, Any] = {"from": lo, "to": hi, "extend": extend}
    first, last = clients or (None, None)
    scope = {**params, "client_lo": first, "client_hi": last, "restrict": restrict}
    _run(con, "derived/scope", scope)
    count = _scalar(con, "derived/scope_size")
    if not count:
        _run(con, "derived/no_propagation")
        return 0
    sql = load_sql("derived/scope_bounds")
    lower, after, until = con.execute(sql, _named(sql, params)).fetchall()[0]
    params.update(
        lower=lower or EARLIEST,
        after=after or EARLIEST,
        until=until or (LATEST if extend else hi),
    )
    for step in _CLIENT_STEPS:
        _run(con, step, params)
    _run(con, "derived/propagate" if extend else "derived/no_propagation", params)
    stored = _scalar(con, "derived/has_stored", params)
    for table, new_table, owner, order in CLIENT_TABLES:
        if stored:  # else an append at the end of history: nothing of these clients to replace
            _run(con, "derived/delete_owned", params, table=table, owner=owner)
        _run(con, "derived/insert_new", table=table, new_table=new_table, order=order)
    return int(count)


def _refresh_slots(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime) -> None:
    """Recompute and replace the per-slot rows of [lo, hi)."""
    params = {"from": lo, "to": hi}
    for step in _SLOT_STEPS:
        _run(con, step, params)
    stored = _scalar(con, "derived/has_slot_rows", params)
    for table, new_table, order in SLOT_TABLES:
        if stored:
            _run(con, "derived/delete_slots", params, table=table)
        _run(con, "derived/insert_new", table=table, new_table=new_table, order=order)


def _drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables a refresh computes into: on a long-lived connection they would
    hold a batch's rows in memory, and they are not part of the schema."""
    names = con.execute(load_sql("derived/scratch_tables"), {"keep": list(DERIVED_TABLES)})
    for (name,) in names.fetchall():
        con.execute(f'drop table if exists temp.main."{name}"')  # names from the catalog only


def _run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
    **identifiers: str,
) -> None:
    """Execute a statement file; `identifiers` fill its {placeholders} (constants only)."""
    sql = load_sql(name)
    if identifiers:
        sql = sql.format(**identifiers)
    con.execute(sql, _named(sql, params or {}))


def _scalar(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
    **identifiers: str,
) -> Any:
    """The one value a statement file selects (`identifiers` as for _run)."""
    sql = load_sql(name)
    if identifiers:
        sql = sql.format(**identifiers)
    return con.execute(sql, _named(sql, params or {})).fetchall()[0][0]


def _named(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the statement names (DuckDB refuses unused named parameters)."""
    code = _COMMENT.sub("", sql)
    return {key: value for key, value in params.items() if re.search(rf"\${key}\b", code)}
