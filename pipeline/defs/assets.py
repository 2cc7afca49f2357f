"""Partitioned assets: one round of fetches per slot, then exact normalization into DuckDB.

A single-run backfill materializes many slots in one step. Dagster would give each slot the
step's metadata, so each slot's numbers (rows it holds and gained, its poll's outcomes) are
attached to its own partition, and the step's own metadata stays empty.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from pipeline.defs.catalog import catalog
from pipeline.defs.partitions import keyed_slots
from pipeline.defs.resources import ProgressCallback, StoreResource
from pipeline.rounds.ingest import ingest_range
from pipeline.rounds.landing import Lander
from pipeline.rounds.poll import PollSummary, poll_slots, round_verdict
from pipeline.rounds.source import SourceProvider
from pipeline.settings import ConfigurationError, ShardPlan
from pipeline.store import Database
from pipeline.store.sqlfiles import load_sql

INGESTION_GROUP = "ingestion"
# A tick that starts a little after its window closed (a busy daemon) still polls its slot.
LATE_TICK_GRACE = timedelta(minutes=5)

# Rows per (slot, table) in a window.
SlotCounts = Counter[tuple[datetime, str]]


class RoundConfig(dg.Config):
    """One shard's round (the schedule sets it when PIPELINE_SHARDS lists shards): `shard` is
    `K/N` or a clients-file shard name; its egress is a local IP address or an http(s) proxy.
    None: every client, over the configured egress."""

    shard: str | None = None
    source_address: str | None = None
    proxy_url: str | None = None

    def plan(self) -> ShardPlan | None:
        if self.shard is None:
            if self.source_address or self.proxy_url:
                raise dg.Failure("fetch_round config: an egress needs its shard")
            return None
        try:
            return ShardPlan(self.shard, self.source_address, self.proxy_url)
        except ConfigurationError as exc:
            raise dg.Failure(f"fetch_round config: {exc}") from None


def check_live_slots(windows: list[tuple[datetime, datetime]], now: datetime) -> None:
    """A real API answers only "now": refuse any slot that is not the one in progress."""
    past = [start for start, end in windows if not (start <= now < end + LATE_TICK_GRACE)]
    if past:
        raise dg.Failure(
            description=(
                f"Cannot poll {len(past)} past slot(s) (first {past[0].isoformat()}) against a "
                "live Hyper instance: the API only answers for the current moment. Materialize "
                "the current slot, or use the simulator (unset HYPER_BASE_URL) for backfills."
            )
        )


def slot_counts(db: Database, start: datetime, end: datetime) -> SlotCounts:
    """Rows each table holds per slot in [start, end) (clients: first seen in the slot)."""
    with db.writer() as writer:
        rows = writer.con.execute(load_sql("store/slot_counts"), {"from": start, "to": end})
        return Counter({(slot, table): n for slot, table, n in rows.fetchall()})


def poll_metadata(summary: PollSummary) -> dict[str, Any]:
    """One slot's round: clients, requests, outcomes (its own, not the run's)."""
    return {
        "clients": summary.clients,
        "skipped_complete": summary.skipped,
        "requests": summary.requests,
        "requests_per_second": round(summary.requests / summary.seconds, 1)
        if summary.seconds
        else 0.0,
        "failed_clients": summary.failed_clients,
        "schema_drift_fields": sum(summary.schema_drift_fields.values()),
        **{f"outcome_{k}": v for k, v in sorted(summary.final_outcomes.items())},
    }


def spec(
    key: str, description: str, kinds: set[str], deps: list[str] | None = None
) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        deps=deps or [],
        description=description,
        kinds=kinds,
        group_name=INGESTION_GROUP,
        metadata={"dagster/column_schema": catalog().tables[key].column_schema},
    )


def build_assets(partitions: dg.TimeWindowPartitionsDefinition) -> list[dg.AssetsDefinition]:
    policy = dg.BackfillPolicy.single_run()

    def per_slot(
        context: dg.AssetExecutionContext,
        keys: list[str],
        slots: list[tuple[datetime, datetime]],
        before: SlotCounts,
        after: SlotCounts,
        tables: tuple[str, ...],
    ) -> None:
        for key, (start, _) in zip(keys, slots, strict=True):
            for table in tables:
                context.add_asset_metadata(
                    {
                        "dagster/row_count": after[start, table],
                        "rows_added": after[start, table] - before[start, table],
                    },
                    asset_key=table,
                    partition_key=key,
                )

    @dg.multi_asset(
        name="fetch_round",
        specs=[
            spec(
                "raw_responses",
                "Every body the API returned, byte-exact, per client and slot.",
                {"api", "duckdb"},
            ),
            spec(
                "fetch_attempts",
                "One row per HTTP attempt with its outcome word and error text.",
                {"api", "duckdb"},
            ),
            spec("clients", "The polled clients (never their passwords).", {"duckdb"}),
        ],
        partitions_def=partitions,
        backfill_policy=policy,
    )
    def fetch_round(
        context: dg.AssetExecutionContext,
        config: RoundConfig,
        hyper: dg.ResourceParam[SourceProvider],
        store: StoreResource,
        progress: dg.ResourceParam[ProgressCallback],
    ) -> Iterator[dg.MaterializeResult[None]]:
        """Fetch every configured client for each slot of the partition range."""
        keys, windows = keyed_slots(partitions, context.partition_keys)
        now = datetime.now(UTC)
        if not hyper.is_simulator:
            check_live_slots(windows, now)
        ends = dict(windows)
        key_of = {start: key for key, (start, _) in zip(keys, windows, strict=True)}

        def as_of_for(slot: datetime) -> datetime | None:
            # The slot in progress is asked "now"; past slots (simulator only) "as of" the slot.
            return None if slot <= now < ends[slot] else slot

        def on_slot(index: int, total: int, summary: PollSummary) -> None:
            if len(windows) > 1:  # a backfill: progress by slot
                progress(index, total, f"{summary.slot_start:%Y-%m-%d %H:%M}")
            context.add_asset_metadata(
                poll_metadata(summary),
                asset_key="fetch_attempts",
                partition_key=key_of[summary.slot_start],
            )
            if index == total or index % 24 == 0:
                context.log.info(
                    f"polled slot {index}/{total} ({summary.slot_start:%Y-%m-%d %H:%M})"
                )

        db = store.db()
        span = (windows[0][0], windows[-1][1])
        before = slot_counts(db, *span)
        shard = config.plan()
        if shard is not None:
            context.log.info(f"shard {shard.spec} over egress {shard.egress}")
        with hyper.open(shard) as source:
            lander = Lander(
                db, context.run.run_id, {c.client_number: c.label for c in source.credentials}
            )
            poll_slots(
                source.client,
                source.credentials,
                lander,
                slots=[start for start, _ in windows],
                as_of_for=as_of_for,
                max_workers=hyper.max_workers,
                on_slot=on_slot,
                # One slot (the scheduled round, a paced `pipeline run`): progress by client.
                on_client=(lambda done, total: progress(done, total, "clients"))
                if len(windows) == 1
                else None,
            )
        after = slot_counts(db, *span)
        per_slot(context, keys, windows, before, after, ("raw_responses", "fetch_attempts"))
        for key, (start, _) in zip(keys, windows, strict=True):
            context.add_asset_metadata(
                {"clients_first_seen": after[start, "clients"]},
                asset_key="clients",
                partition_key=key,
            )
        landing = lander.stats
        context.log.info(
            f"landed {landing.answers} answers in {landing.batches} batches "
            f"({landing.spooled} spooled, {landing.spool_loads} spool files loaded)"
        )
        for table in ("raw_responses", "fetch_attempts", "clients"):
            yield dg.MaterializeResult(asset_key=table)

    @dg.multi_asset(
        name="balance_history",
        specs=[
            spec(
                "balance_snapshots",
                "One snapshot per client and slot that returned a balance envelope.",
                {"polars", "duckdb"},
                deps=["raw_responses"],
            ),
            spec(
                "balance_lines",
                "One exact line per client, slot and currency, with rate and lock.",
                {"polars", "duckdb"},
                deps=["raw_responses"],
            ),
        ],
        partitions_def=partitions,
        backfill_policy=policy,
    )
    def balance_history(
        context: dg.AssetExecutionContext, store: StoreResource
    ) -> Iterator[dg.MaterializeResult[None]]:
        """Normalize the slot range's raw bodies with polars and append them atomically."""
        keys, windows = keyed_slots(partitions, context.partition_keys)
        span = (windows[0][0], windows[-1][1])
        db = store.db()
        before = slot_counts(db, *span)
        result = ingest_range(db, *span)
        after = slot_counts(db, *span)
        with db.writer() as writer:
            outcomes = writer.round_outcomes(context.run.run_id, *span)
        per_slot(context, keys, windows, before, after, ("balance_snapshots", "balance_lines"))
        context.log.info(
            f"normalized {result.raw_considered} bodies: {result.snapshots} snapshots, "
            f"{result.lines} lines, {result.rejected} rejected"
        )
        yield dg.MaterializeResult(asset_key="balance_snapshots")
        yield dg.MaterializeResult(asset_key="balance_lines")
        # After landing and normalizing everything this run polled: a round that did not do
        # its job fails the run, with one line (successes among failures stay a success).
        verdict = round_verdict(outcomes, store.max_failed_share)
        if verdict is not None:
            raise dg.Failure(description=f"round failed: {verdict}")

    return [fetch_round, balance_history]
