"""One polling round: fetch every client for a slot and land each answer with its outcome."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.hyper import Credential, Exchange, HyperClient
from pipeline.normalize.outcomes import SNAPSHOT_OUTCOMES, Classified, classify
from pipeline.store import Store

log = logging.getLogger(__name__)

# Answers are landed in batches of this many: one DuckDB commit per batch, and a crash loses
# at most one batch of fetches, which a re-run of the slot fetches again.
LANDING_BATCH = 64


@dataclass
class PollSummary:
    """What one round did; becomes Dagster metadata and CLI output."""

    slot_start: datetime
    clients: int = 0
    skipped: int = 0
    requests: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    final_outcomes: Counter[str] = field(default_factory=Counter)
    schema_drift_fields: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def failed_clients(self) -> int:
        return sum(n for o, n in self.final_outcomes.items() if o not in SNAPSHOT_OUTCOMES)

    def merge(self, other: PollSummary) -> None:
        self.clients += other.clients
        self.skipped += other.skipped
        self.requests += other.requests
        self.outcomes.update(other.outcomes)
        self.final_outcomes.update(other.final_outcomes)
        self.schema_drift_fields.update(other.schema_drift_fields)
        self.seconds += other.seconds


def poll_slot(
    client: HyperClient,
    credentials: Sequence[Credential],
    store: Store,
    *,
    slot_start: datetime,
    run_id: str,
    as_of: datetime | None = None,
    max_workers: int = 8,
    pool: ThreadPoolExecutor | None = None,
) -> PollSummary:
    """Fetch every client that has no snapshot for `slot_start` yet and land what came back.

    Clients whose slot is already complete are skipped, so re-running a round adds no row.
    A failing client never stops the others: its failure is an attempt row with an outcome.
    Store writes happen on this thread; only HTTP runs in the worker threads.
    """
    started = time.perf_counter()
    summary = PollSummary(slot_start=slot_start, clients=len(credentials))
    done = store.clients_with_snapshot(slot_start)
    pending = [c for c in credentials if c.client_number not in done]
    summary.skipped = len(credentials) - len(pending)
    store.register_clients([(c.client_number, c.label) for c in pending], slot_start)

    landing: list[tuple[Exchange, Classified]] = []
    with _pool_or_new(pool, max_workers) as workers:
        futures = [workers.submit(_fetch, client, c, as_of) for c in pending]
        for future in as_completed(futures):
            final = None
            for exchange in future.result():
                classified = classify(exchange)
                landing.append((exchange, classified))
                summary.requests += 1
                summary.outcomes[classified.outcome] += 1
                summary.schema_drift_fields.update(classified.extra_fields)
                final = classified
            if final is not None:
                summary.final_outcomes[final.outcome] += 1
                if final.error:
                    log.warning("slot %s: %s", slot_start.isoformat(), final.error)
            if len(landing) >= LANDING_BATCH:
                store.record_exchanges(run_id, slot_start, landing)
                landing = []
    if landing:
        store.record_exchanges(run_id, slot_start, landing)
    summary.seconds = time.perf_counter() - started
    return summary


@contextmanager
def _pool_or_new(pool: ThreadPoolExecutor | None, max_workers: int) -> Iterator[ThreadPoolExecutor]:
    """Reuse the caller's pool (a backfill polls many slots), or own one for this round."""
    if pool is not None:
        yield pool
        return
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as own:
        yield own


def _fetch(client: HyperClient, credential: Credential, as_of: datetime | None) -> list[Exchange]:
    """All attempts for one client (retries, token refresh: `HyperClient.fetch_with_retries`).

    An unexpected exception becomes a recorded network error, never a stopped round.
    """
    try:
        return client.fetch_with_retries(credential, as_of=as_of)
    except Exception as exc:  # never let one client's surprise stop the round
        return [
            Exchange.without_answer(
                credential.client_number, 1, f"unexpected client failure ({type(exc).__name__})"
            )
        ]


def poll_slots(
    client: HyperClient,
    credentials: Sequence[Credential],
    store: Store,
    *,
    slots: Sequence[datetime],
    run_id: str,
    as_of_for: Callable[[datetime], datetime | None],
    max_workers: int = 8,
    on_slot: Callable[[int, int, PollSummary], None] | None = None,
) -> PollSummary:
    """Poll several slots in order (a backfill); `as_of_for(slot)` says which instant to ask."""
    total = PollSummary(slot_start=slots[0] if slots else datetime.now(UTC))
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for index, slot in enumerate(slots, start=1):
            summary = poll_slot(
                client,
                credentials,
                store,
                slot_start=slot,
                run_id=run_id,
                as_of=as_of_for(slot),
                pool=pool,
            )
            total.merge(summary)
            total.clients = summary.clients
            if on_slot is not None:
                on_slot(index, len(slots), summary)
    return total
