"""Partitioned assets: one round of fetches per slot, then exact normalization into DuckDB."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from pipeline.defs.partitions import slot_starts
from pipeline.defs.resources import ProgressCallback, StoreResource
from pipeline.rounds.ingest import ingest_range
from pipeline.rounds.landing import Lander
from pipeline.rounds.poll import PollSummary, poll_slots, round_verdict
from pipeline.rounds.source import SourceProvider

# A tick that starts a little after its window closed (a busy daemon) still polls its slot.
LATE_TICK_GRACE = timedelta(minutes=5)


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


def build_assets(partitions: dg.TimeWindowPartitionsDefinition) -> list[dg.AssetsDefinition]:
    policy = dg.BackfillPolicy.single_run()

    @dg.multi_asset(
        name="fetch_round",
        specs=[
            dg.AssetSpec(
                "raw_responses",
                description="Every body the API returned, byte-exact, per client and slot.",
            ),
            dg.AssetSpec(
                "fetch_attempts",
                description="One row per HTTP attempt with its outcome word and error text.",
            ),
            dg.AssetSpec("clients", description="The polled clients (never their passwords)."),
        ],
        partitions_def=partitions,
        backfill_policy=policy,
        group_name="ingestion",
    )
    def fetch_round(
        context: dg.AssetExecutionContext,
        hyper: dg.ResourceParam[SourceProvider],
        store: StoreResource,
        progress: dg.ResourceParam[ProgressCallback],
    ) -> Iterator[dg.MaterializeResult[None]]:
        """Fetch every configured client for each slot of the partition range."""
        windows = slot_starts(partitions, list(context.partition_keys))
        now = datetime.now(UTC)
        if not hyper.is_simulator:
            check_live_slots(windows, now)

        def as_of_for(slot: datetime) -> datetime | None:
            # The slot in progress is asked "now"; past slots (simulator only) "as of" the slot.
            end = next(e for s, e in windows if s == slot)
            return None if slot <= now < end else slot

        def on_slot(index: int, total: int, summary: PollSummary) -> None:
            if len(windows) > 1:  # a backfill: progress by slot
                progress(index, total, f"{summary.slot_start:%Y-%m-%d %H:%M}")
            if index == total or index % 24 == 0:
                context.log.info(
                    f"polled slot {index}/{total} ({summary.slot_start:%Y-%m-%d %H:%M})"
                )

        db = store.db()
        with db.writer() as writer:
            before = writer.table_counts()
        with hyper.open() as source:
            lander = Lander(
                db, context.run.run_id, {c.client_number: c.label for c in source.credentials}
            )
            summary = poll_slots(
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
        with db.writer() as writer:
            after = writer.table_counts()
        landing = lander.stats
        round_meta = {
            "slots": len(windows),
            "clients": summary.clients,
            "skipped_complete": summary.skipped,
            "requests": summary.requests,
            "requests_per_second": round(summary.requests / summary.seconds, 1)
            if summary.seconds
            else 0.0,
            "failed_clients": summary.failed_clients,
            "schema_drift_fields": sum(summary.schema_drift_fields.values()),
            "landing_batches": landing.batches,
            "landing_seconds_per_batch": round(landing.overhead_per_batch, 4),
            "batches_spooled": landing.spooled,
            "spool_files_loaded": landing.spool_loads,
            **{f"outcome_{k}": v for k, v in sorted(summary.final_outcomes.items())},
        }
        for table in ("raw_responses", "fetch_attempts", "clients"):
            yield dg.MaterializeResult(
                asset_key=table,
                metadata={
                    "dagster/row_count": after[table],
                    "rows_added": after[table] - before[table],
                    **(round_meta if table == "fetch_attempts" else {}),
                },
            )

    @dg.multi_asset(
        name="balance_history",
        specs=[
            dg.AssetSpec(
                "balance_snapshots",
                deps=["raw_responses"],
                description="One snapshot per client and slot that returned a balance envelope.",
            ),
            dg.AssetSpec(
                "balance_lines",
                deps=["raw_responses"],
                description="One exact line per client, slot and currency, with rate and lock.",
            ),
        ],
        partitions_def=partitions,
        backfill_policy=policy,
        group_name="ingestion",
    )
    def balance_history(
        context: dg.AssetExecutionContext, store: StoreResource
    ) -> Iterator[dg.MaterializeResult[None]]:
        """Normalize the slot range's raw bodies with polars and append them atomically."""
        window = context.partition_time_window
        db = store.db()
        result = ingest_range(db, window.start, window.end)
        with db.writer() as writer:
            counts = writer.table_counts()
            outcomes = writer.round_outcomes(context.run.run_id, window.start, window.end)
        yield dg.MaterializeResult(
            asset_key="balance_snapshots",
            metadata={
                "dagster/row_count": counts["balance_snapshots"],
                "rows_added": result.snapshots,
                "rejected_bodies": result.rejected,
            },
        )
        yield dg.MaterializeResult(
            asset_key="balance_lines",
            metadata={"dagster/row_count": counts["balance_lines"], "rows_added": result.lines},
        )
        # After landing and normalizing everything this run polled: a round that did not do
        # its job fails the run, with one line (successes among failures stay a success).
        verdict = round_verdict(outcomes, store.max_failed_share)
        if verdict is not None:
            raise dg.Failure(description=f"round failed: {verdict}")

    return [fetch_round, balance_history]
