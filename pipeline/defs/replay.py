"""`replay_job`: rebuild snapshots and lines from raw_responses from the UI, range as run config.

No `from __future__ import annotations` here: Dagster resolves the config class from the op's
annotations at definition time.
"""

from datetime import UTC, datetime

import dagster as dg

from pipeline.defs.resources import StoreResource
from pipeline.rounds.replay import replay
from pipeline.store.history import Selection

REPLAY_JOB = "replay_job"


class ReplayConfig(dg.Config):
    """The range to rebuild: slots in [slot_from, slot_to), one client or all (None)."""

    slot_from: str | None = None  # ISO-8601; UTC when no offset; None: the earliest slot
    slot_to: str | None = None  # ISO-8601, exclusive; None: after the latest slot
    client: int | None = None


def _instant(text: str | None, name: str) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise dg.Failure(f"replay config {name}={text!r} is not an ISO-8601 instant") from None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


@dg.op
def replay_history(
    context: dg.OpExecutionContext, config: ReplayConfig, store: StoreResource
) -> dg.Output[dict]:  # type: ignore[type-arg]  # Dagster type-checks this at run time
    """Rebuild balance_snapshots and balance_lines for the range from raw_responses."""
    selection = Selection(
        _instant(config.slot_from, "slot_from"), _instant(config.slot_to, "slot_to"), config.client
    )

    def on_batch(number: int, total: int, batch: Selection) -> None:
        context.log.info(f"replayed batch {number}/{total} from {batch.slot_from:%Y-%m-%d %H:%M}")

    with store.writer() as writer:
        summary = replay(writer, selection, on_batch=on_batch)
    metadata = {
        "batches": summary.batches,
        "bodies_read": summary.raw_read,
        "snapshots_unchanged": summary.snapshots_unchanged,
        "lines_unchanged": summary.lines_unchanged,
        **summary.changes,
        "seconds": round(summary.seconds, 3),
    }
    return dg.Output(metadata, metadata=metadata)


@dg.job(
    name=REPLAY_JOB,
    description="Rebuild history from raw_responses; only what differs.",
    tags={"pipeline/exclusive": "history"},  # one replay or maintenance at a time (dagster.yaml)
)
def replay_job() -> None:
    replay_history()
