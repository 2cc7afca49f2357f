"""Data-quality checks: plain SQL files (`sql/checks/NAME.sql`) that select offending rows.

A check passes when its query returns no row. Checks look at whole tables (they are
partition-agnostic). Results are also appended to `check_results`, an audit log with one row per
check per evaluation, so data quality can be charted over time. Dagster wiring lives in
`pipeline/defs/checks.py`; nothing here imports Dagster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from pipeline.store.sqlfiles import load_sql

ERROR = "ERROR"
WARN = "WARN"
# Offending rows kept in metadata and in check_results.details: enough to act on, bounded.
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Check:
    name: str  # the property asserted; also the file name in sql/checks
    asset: str  # the table (Dagster asset key) it is about
    severity: str
    description: str


CHECKS: tuple[Check, ...] = (
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
        "balance_snapshots_are_fresh",
        "balance_snapshots",
        WARN,
        "The newest slot with a snapshot is no older than two schedule intervals.",
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


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    passed: bool
    offending_rows: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def details(self) -> str:
        """The JSON stored in check_results.details (values as text: decimals stay exact)."""
        return json.dumps(
            {"sample": self.sample, "params": self.params}, default=str, ensure_ascii=False
        )


def check_named(name: str) -> Check:
    for check in CHECKS:
        if check.name == name:
            return check
    raise KeyError(f"no check named {name!r}; known: {', '.join(c.name for c in CHECKS)}")


def evaluate(
    con: duckdb.DuckDBPyConnection, check: Check, *, now: datetime, max_age: timedelta
) -> CheckOutcome:
    """Run one check's SQL; the freshness check reads `now` and `max_age`, the others nothing."""
    sql = load_sql(f"checks/{check.name}")
    params: dict[str, Any] = {}
    if "$now" in sql:
        params = {"now": now, "max_age_seconds": max_age.total_seconds()}
    cursor = con.execute(
        f"select count(*) over () as _total, * from ({sql.rstrip().rstrip(';')})", params
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchmany(SAMPLE_ROWS)
    total = rows[0][0] if rows else 0
    sample = [dict(zip(names[1:], row[1:], strict=True)) for row in rows]
    return CheckOutcome(
        check, passed=total == 0, offending_rows=total, sample=sample, params=params
    )


def record(
    con: duckdb.DuckDBPyConnection, outcomes: list[CheckOutcome], evaluated_at: datetime
) -> None:
    """Append outcomes to check_results (an audit log: every evaluation adds its rows)."""
    for outcome in outcomes:
        con.execute(
            "insert into check_results values ($name, $asset, $at, $passed, $severity, $n,"
            " $details::json)",
            {
                "name": outcome.check.name,
                "asset": outcome.check.asset,
                "at": evaluated_at,
                "passed": outcome.passed,
                "severity": outcome.check.severity,
                "n": outcome.offending_rows,
                "details": outcome.details(),
            },
        )


def run_checks(
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime,
    max_age: timedelta,
    checks: tuple[Check, ...] = CHECKS,
) -> list[CheckOutcome]:
    """Evaluate checks and record them, all at `now`."""
    outcomes = [evaluate(con, check, now=now, max_age=max_age) for check in checks]
    record(con, outcomes, now)
    return outcomes
