"""The poll schedule: one run per tick, or one run per shard per tick when shards are listed.

Past ~10 shards a slot x shard multi-partition would reach hundreds of thousands of
partitions a year, so the shard is a run dimension instead: every shard's run materializes the
same slot partition, tagged with its `shard` and `egress` (docs/dagster.yaml lets one run per
egress poll at a time) and configured with its shard and egress.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import dagster as dg

from pipeline.settings import ShardPlan

POLL_SCHEDULE = "poll_schedule"


def shard_run_config(plan: ShardPlan) -> dict[str, object]:
    """The poll job's run config for one shard (fetch_round's RoundConfig)."""
    config = {
        "shard": plan.spec,
        "source_address": plan.source_address,
        "proxy_url": plan.proxy_url,
    }
    return {"ops": {"fetch_round": {"config": config}}}


def poll_schedule(
    job: dg.UnresolvedAssetJobDefinition,
    partitions: dg.TimeWindowPartitionsDefinition,
    cron: str,
    shards: Sequence[ShardPlan],
) -> dg.ScheduleDefinition:
    """Each tick polls the slot in progress: in one run, or in one run per shard."""

    @dg.schedule(
        name=POLL_SCHEDULE,
        cron_schedule=cron,
        job=job,
        execution_timezone="UTC",
        description="Poll the slot in progress"
        + (f": one run per shard ({len(shards)})." if shards else "."),
    )
    def poll(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        tick = context.scheduled_execution_time or datetime.now(UTC)
        # The window the tick falls in: the tick at 14:00 polls the 14:00 slot.
        slot = partitions.get_partition_key_for_timestamp(tick.timestamp())
        if not shards:
            yield dg.RunRequest(run_key=slot, partition_key=slot)
            return
        for plan in shards:
            yield dg.RunRequest(
                # One run per slot and shard, even if the tick is evaluated twice.
                run_key=f"{slot}/{plan.spec}",
                partition_key=slot,
                run_config=shard_run_config(plan),
                tags={"shard": plan.spec, "egress": plan.egress},
            )

    return poll
