"""Data-quality checks: plain SQL files (`sql/checks/NAME.sql`) that select offending rows.

A check passes when its query returns no row. Two kinds:

- **Slot checks** guard what one poll slot added: each evaluation reads only the slots it is
  given (every offending row carries its `slot_start`), so a new outlier fails its own slot and
  an old one stays with the slot it is in instead of keeping every later evaluation red.
- **Book checks** look at the whole book: freshness, and one per table that runs that table's
  slot checks over every slot (rows written by `replay` or `raw import` were never checked by a
  poll). They run on their own schedule.

Results are also appended to `check_results`, an audit log with one row per check and slot (or
per book evaluation) per evaluation, so data quality can be charted over time. Dagster wiring
lives in `pipeline/defs/checks.py`; nothing here imports Dagster.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb
import polars as pl

from pipeline.store.sqlfiles import load_sql

UTC_TS = pl.Datetime("us", "UTC")

ERROR = "ERROR"
WARN = "WARN"
# Offending rows kept in metadata and in check_results.details: enough to act on, bounded.
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Check:
    name: str  # the property asserted; also the file name in sql/checks (slot checks)
    asset: str  # the table (Dagster asset key) it is about
    severity: str
    description: str
    # Book checks that re-run slot checks over the whole book name them here.
    covers: tuple[str, ...] = ()

    @property
    def per_slot(self) -> bool:
        return self in SLOT_CHECKS


SLOT_CHECKS: tuple[Check, ...] = (
    Check(
        "raw_responses_have_unique_ids",
        "raw_responses",
        ERROR,
        "No answer is stored twice (raw_id, a content hash, is unique).",
    ),
    Check(
        "fetch_attempts_have_unique_keys",
        "fetch_attempts",
        ERROR,
        "No two attempts share (run_id, slot_start, client_number, attempt).",
    ),
    Check(
        "balance_snapshots_reconcile_to_lines",
        "balance_snapshots",
        ERROR,
        "Each snapshot's reported TotalFloatingBalance equals the sum of its lines' values.",
    ),
    Check(
        "balance_snapshots_have_unique_keys",
        "balance_snapshots",
        ERROR,
        "No two snapshots share (client_number, slot_start).",
    ),
    Check(
        "balance_lines_have_unique_keys",
        "balance_lines",
        ERROR,
        "No two lines share (client_number, slot_start, currency).",
    ),
    Check(
        "balance_lines_cash_not_above_balance",
        "balance_lines",
        WARN,
        "Cash never exceeds a positive balance (locked is never negative).",
    ),
    Check(
        "balance_lines_implied_rates_agree",
        "balance_lines",
        WARN,
        "Every line's implied rate matches its slot's median within Value's 2-decimal rounding.",
    ),
)

BOOK_CHECKS: tuple[Check, ...] = (
    Check(
        "raw_responses_all_slots_pass",
        "raw_responses",
        ERROR,
        "Every slot in the book passes the raw answers' slot checks, imported ones too.",
        covers=("raw_responses_have_unique_ids",),
    ),
    Check(
        "fetch_attempts_all_slots_pass",
        "fetch_attempts",
        ERROR,
        "Every slot in the book passes the attempts' slot checks, imported ones too.",
        covers=("fetch_attempts_have_unique_keys",),
    ),
    Check(
        "balance_snapshots_are_fresh",
        "balance_snapshots",
        WARN,
        "The newest slot with a snapshot is no older than two schedule intervals.",
    ),
    Check(
        "fetch_attempts_slots_complete",
        "fetch_attempts",
        WARN,
        "Every slot of the last day asked every client polled in the day before it: no shard "
        "missed its run (slot_completeness).",
    ),
    Check(
        "balance_snapshots_all_slots_pass",
        "balance_snapshots",
        ERROR,
        "Every slot in the book passes the snapshot slot checks, replayed and imported ones too.",
        covers=("balance_snapshots_reconcile_to_lines", "balance_snapshots_have_unique_keys"),
    ),
    Check(
        "balance_lines_all_slots_pass",
        "balance_lines",
        ERROR,
        "Every slot in the book passes the line slot checks, replayed and imported ones too.",
        covers=(
            "balance_lines_have_unique_keys",
            "balance_lines_cash_not_above_balance",
            "balance_lines_implied_rates_agree",
        ),
    ),
)

CHECKS: tuple[Check, ...] = SLOT_CHECKS + BOOK_CHECKS


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    passed: bool
    offending_rows: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    # The slots evaluated, [slot_from, slot_to); None for a book check.
    slot_from: datetime | None = None
    slot_to: datetime | None = None
    # A book check that covers slot checks: the worst severity among the failing ones.
    severity: str | None = None
    # A book check that covers slot checks: offending rows and slots per covered check.
    breakdown: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def effective_severity(self) -> str:
        return self.severity or self.check.severity

    def details(self) -> str:
        """The JSON stored in check_results.details (values as text: decimals stay exact)."""
        payload: dict[str, Any] = {"sample": self.sample, "params": self.params}
        if self.breakdown:
            payload["breakdown"] = self.breakdown
        return json.dumps(payload, default=str, ensure_ascii=False)


def check_named(name: str) -> Check:
    for check in CHECKS:
        if check.name == name:
            return check
    raise KeyError(f"no check named {name!r}; known: {', '.join(c.name for c in CHECKS)}")


def evaluate(
    con: duckdb.DuckDBPyConnection,
    check: Check,
    *,
    now: datetime,
    max_age: timedelta,
) -> CheckOutcome:
    """Evaluate a check over the whole book (the freshness check reads `now` and `max_age`)."""
    if check.covers:
        return _evaluate_covering(con, check)
    sql = load_sql(f"checks/{check.name}")
    params: dict[str, Any] = {}
    if "$now" in sql:
        params = {"now": now, "max_age_seconds": max_age.total_seconds()}
    cursor = con.execute(
        f"""
        select count(*) over () as _total, * from ({_strip(sql)})
        qualify row_number() over () <= {SAMPLE_ROWS:d}
        """,
        params,
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    total = rows[0][0] if rows else 0
    sample = [dict(zip(names[1:], row[1:], strict=True)) for row in rows]
    return CheckOutcome(
        check, passed=total == 0, offending_rows=total, sample=sample, params=params
    )


def evaluate_slots(
    con: duckdb.DuckDBPyConnection,
    check: Check,
    slots: Sequence[tuple[datetime, datetime]],
) -> list[CheckOutcome]:
    """Evaluate a slot check once per slot, in one query over the slots' range.

    Args:
        slots: (start, end) of each slot, in order; the outcomes come back in the same order.
    """
    if not check.per_slot:
        raise ValueError(f"{check.name} looks at the whole book, not at slots")
    if not slots:
        return []
    # Bounds outside the check's own query let DuckDB push them down into the views' scans.
    cursor = con.execute(
        f"""
        select count(*) over (partition by slot_start) as _total, *
        from ({_strip(load_sql(f"checks/{check.name}"))})
        where slot_start >= $slot_from and slot_start < $slot_to
        qualify row_number() over (partition by slot_start) <= {SAMPLE_ROWS:d}
        """,
        {"slot_from": slots[0][0], "slot_to": slots[-1][1]},
    )
    names = [d[0] for d in cursor.description]
    found: dict[datetime, tuple[int, list[dict[str, Any]]]] = {}
    for row in cursor.fetchall():
        record = dict(zip(names[1:], row[1:], strict=True))
        total, sample = found.setdefault(record["slot_start"], (row[0], []))
        sample.append(record)
    outcomes = []
    for start, end in slots:
        total, sample = found.get(start, (0, []))
        outcomes.append(
            CheckOutcome(
                check,
                passed=total == 0,
                offending_rows=total,
                sample=sorted(sample, key=_sample_order),
                slot_from=start,
                slot_to=end,
            )
        )
    return outcomes


def _evaluate_covering(con: duckdb.DuckDBPyConnection, check: Check) -> CheckOutcome:
    """A book check: each covered slot check over every slot, summed up."""
    breakdown: dict[str, dict[str, Any]] = {}
    sample: list[dict[str, Any]] = []
    failing: list[Check] = []
    total = 0
    for name in check.covers:
        covered = check_named(name)
        rows, slots, first, last = con.execute(
            f"""
            select count(*), count(distinct slot_start), min(slot_start), max(slot_start)
            from ({_strip(load_sql(f"checks/{name}"))})
            """
        ).fetchall()[0]
        breakdown[name] = {"rows": rows, "slots": slots, "first_slot": first, "last_slot": last}
        if rows:
            total += rows
            failing.append(covered)
            if len(sample) < SAMPLE_ROWS:
                sample.append({"check": name, "rows": rows, "slots": slots, "last_slot": last})
    severity = ERROR if any(c.severity == ERROR for c in failing) else WARN
    return CheckOutcome(
        check,
        passed=not failing,
        offending_rows=total,
        sample=sample,
        severity=severity if failing else check.severity,
        breakdown=breakdown,
    )


def record(
    con: duckdb.DuckDBPyConnection, outcomes: Sequence[CheckOutcome], evaluated_at: datetime
) -> None:
    """Append outcomes to check_results (an audit log: every evaluation adds its rows).

    One Arrow batch, not a statement per row: a week's backfill records 840 slot outcomes.
    """
    if not outcomes:
        return
    rows = pl.DataFrame(
        {
            "check_name": [o.check.name for o in outcomes],
            "asset": [o.check.asset for o in outcomes],
            "passed": [o.passed for o in outcomes],
            "severity": [o.effective_severity for o in outcomes],
            "offending_rows": [o.offending_rows for o in outcomes],
            "details": [o.details() for o in outcomes],
            "slot_from": [o.slot_from for o in outcomes],
            "slot_to": [o.slot_to for o in outcomes],
        },
        schema_overrides={"slot_from": UTC_TS, "slot_to": UTC_TS, "offending_rows": pl.Int64},
    )
    con.register("incoming_check_results", rows.to_arrow())
    try:
        con.execute(load_sql("store/insert_check_results"), {"at": evaluated_at})
    finally:
        con.unregister("incoming_check_results")


def run_checks(
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime,
    max_age: timedelta,
    checks: tuple[Check, ...] = BOOK_CHECKS,
) -> list[CheckOutcome]:
    """Evaluate whole-book checks and record them, all at `now`."""
    outcomes = [evaluate(con, check, now=now, max_age=max_age) for check in checks]
    record(con, outcomes, now)
    return outcomes


def _strip(sql: str) -> str:
    return sql.rstrip().rstrip(";")


def _sample_order(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(str(row.get(k)) for k in ("client_number", "currency"))
