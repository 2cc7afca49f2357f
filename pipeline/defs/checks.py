"""Asset checks: the data-quality checks of `pipeline.analytics.checks`, wired into Dagster.

Each check looks at the whole table (checks are partition-agnostic), reports its offending rows
in metadata and appends its result to `check_results`. WARN checks never fail a run; none of the
checks is blocking, so a failed check is visible in the UI without stopping the poll.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from pipeline.analytics.checks import CHECKS, ERROR, Check, evaluate, record
from pipeline.defs.resources import StoreResource

_SEVERITY = {ERROR: dg.AssetCheckSeverity.ERROR}


def schedule_interval(partitions: dg.TimeWindowPartitionsDefinition) -> timedelta:
    """The length of one poll slot (the first partition's window)."""
    window = partitions.time_window_for_partition_key(partitions.get_first_partition_key())
    return window.end - window.start


def build_checks(
    partitions: dg.TimeWindowPartitionsDefinition,
) -> list[dg.AssetChecksDefinition]:
    # "Fresh" means the newest slot is no older than two schedule intervals.
    max_age = 2 * schedule_interval(partitions)
    return [_build_check(check, max_age) for check in CHECKS]


def _build_check(check: Check, max_age: timedelta) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=check.asset, name=check.name, description=check.description)
    def _check(store: StoreResource) -> dg.AssetCheckResult:
        now = datetime.now(UTC)
        with store.writer() as writer:
            outcome = evaluate(writer.con, check, now=now, max_age=max_age)
            record(writer.con, [outcome], now)
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=_SEVERITY.get(check.severity, dg.AssetCheckSeverity.WARN),
            metadata={
                "offending_rows": outcome.offending_rows,
                "offending_sample": dg.MetadataValue.json(json.loads(outcome.details())["sample"]),
            },
        )

    return _check
