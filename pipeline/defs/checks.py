"""Asset checks: the checks of `pipeline.analytics.checks`, wired into Dagster.

Slot checks are partitioned like the assets they guard and run in every poll, right after
`balance_history`: one evaluation per slot of the run (a week's single-run backfill reports 168
per check), each reading only its slot's rows. Book checks are unpartitioned and run in
`book_checks_job`, daily on `book_checks_schedule`. None is blocking: a failed check is
visible in the UI and in `check_results` without stopping the poll; WARN checks never fail a
run.
"""

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from pipeline.analytics.checks import (
    BOOK_CHECKS,
    ERROR,
    SLOT_CHECKS,
    Check,
    CheckOutcome,
    evaluate,
    evaluate_slots,
    record,
)
from pipeline.defs.partitions import keyed_slots, slot_length
from pipeline.defs.resources import StoreResource

BOOK_CHECKS_JOB = "book_checks_job"
# Once a day, after midnight UTC: the book checks read every slot, so they stay off the hourly
# path.
BOOK_CHECKS_CRON = "15 0 * * *"


def severity(name: str) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if name == ERROR else dg.AssetCheckSeverity.WARN


def build_slot_checks(
    partitions: dg.TimeWindowPartitionsDefinition,
) -> list[dg.AssetChecksDefinition]:
    # Partitioned asset checks are a Dagster preview feature: the warning would greet every
    # code location load and CLI run; test_dagster pins the behaviour we rely on instead.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [_slot_check(check, partitions) for check in SLOT_CHECKS]


def build_book_checks(
    partitions: dg.TimeWindowPartitionsDefinition,
) -> list[dg.AssetChecksDefinition]:
    # "Fresh" means the newest slot is no older than two schedule intervals.
    max_age = 2 * slot_length(partitions)
    return [_book_check(check, max_age) for check in BOOK_CHECKS]


def _slot_check(
    check: Check, partitions: dg.TimeWindowPartitionsDefinition
) -> dg.AssetChecksDefinition:
    # Typed as returning one AssetCheckResult; Dagster runs a generator of events as well.
    @dg.asset_check(  # type: ignore[arg-type]
        asset=check.asset,
        name=check.name,
        description=f"{check.description} Per slot.",
        partitions_def=partitions,
    )
    def _check(
        context: dg.AssetCheckExecutionContext, store: StoreResource
    ) -> Iterator[dg.AssetCheckEvaluation | dg.Output[None]]:
        keys, slots = keyed_slots(partitions, context.partition_keys)
        with store.writer() as writer:
            outcomes = evaluate_slots(writer.con, check, slots)
            record(writer.con, outcomes, datetime.now(UTC))
        # A single-run backfill covers many slots: one evaluation per slot, so each partition
        # shows its own verdict (AssetCheckResult would give the whole range one).
        for key, outcome in zip(keys, outcomes, strict=True):
            yield dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey(check.asset),
                check_name=check.name,
                passed=outcome.passed,
                severity=severity(check.severity),
                partition=key,
                metadata=_metadata(outcome),
            )
        yield dg.Output(None)

    return _check


def _book_check(check: Check, max_age: timedelta) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=check.asset, name=check.name, description=check.description)
    def _check(store: StoreResource) -> dg.AssetCheckResult:
        now = datetime.now(UTC)
        with store.writer() as writer:
            outcome = evaluate(writer.con, check, now=now, max_age=max_age)
            record(writer.con, [outcome], now)
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=severity(outcome.effective_severity),
            metadata={
                **_metadata(outcome),
                **{
                    f"{name}_rows": part["rows"]
                    for name, part in outcome.breakdown.items()
                    if part["rows"]
                },
            },
        )

    return _check


def _metadata(outcome: CheckOutcome) -> dict[str, Any]:
    return {
        "offending_rows": outcome.offending_rows,
        "offending_sample": dg.MetadataValue.json(json.loads(outcome.details())["sample"]),
    }
