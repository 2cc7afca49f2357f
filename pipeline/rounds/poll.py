"""One polling round: fetch every client for a slot and land each answer with its outcome."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.hyper import Credential, Exchange, HyperClient
from pipeline.normalize.outcomes import SNAPSHOT_OUTCOMES, classify
from pipeline.rounds.landing import Lander

log = logging.getLogger(__name__)

# The round outcome of a client a re-run found complete and did not ask again.
ALREADY_COMPLETE = "already_complete"


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

    @property
    def polled_clients(self) -> int:
        return sum(self.final_outcomes.values())

    def merge(self, other: PollSummary) -> None:
        self.clients += other.clients
        self.skipped += other.skipped
        self.requests += other.requests
        self.outcomes.update(other.outcomes)
        self.final_outcomes.update(other.final_outcomes)
        self.schema_drift_fields.update(other.schema_drift_fields)
        self.seconds += other.seconds


def round_verdict(final_outcomes: Mapping[str, int], max_failed_share: float | None) -> str | None:
    """Why a round counts as failed (one line), or None when it did its job.

    `final_outcomes` counts each client's last outcome (`already_complete` for the clients a
    re-run skipped). A round fails when it had clients and none ended `ok`/`restricted` (or was
    complete already), or, with `max_failed_share`, when a larger share than that failed.
    """
    polled = sum(final_outcomes.values())
    done = (*SNAPSHOT_OUTCOMES, ALREADY_COMPLETE)
    failed = {o: n for o, n in final_outcomes.items() if o not in done and n}
    if not polled or not failed:
        return None
    worst = ", ".join(f"{o} {n}" for o, n in sorted(failed.items(), key=lambda i: -i[1]))
    failures = sum(failed.values())
    if failures == polled:
        return f"every one of the {polled} clients polled failed ({worst})"
    share = failures / polled
    if max_failed_share is not None and share > max_failed_share:
        return (
            f"{failures} of {polled} clients failed ({share:.0%} > {max_failed_share:.0%}: {worst})"
        )
    return None


def poll_slot(
    client: HyperClient,
    credentials: Sequence[Credential],
    lander: Lander,
    *,
    slot_start: datetime,
    as_of: datetime | None = None,
    max_workers: int = 8,
    pool: ThreadPoolExecutor | None = None,
    on_client: Callable[[int, int], None] | None = None,
) -> PollSummary:
    """Fetch every client without a usable answer for `slot_start` and hand the answers on.

    Clients with a snapshot or a landed (or spooled) usable answer are skipped, so re-running a
    round adds no row and never asks twice. A failing client never stops the others: its
    failure is an attempt row with an outcome. Only HTTP runs in the worker threads; landing
    happens on this thread, in short sessions (`Lander`). `on_client(done, total)` hears about
    each finished client (a paced round takes minutes).
    """
    started = time.perf_counter()
    summary = PollSummary(slot_start=slot_start, clients=len(credentials))
    done = lander.usable_clients(slot_start)
    pending = [c for c in credentials if c.client_number not in done]
    summary.skipped = len(credentials) - len(pending)

    with _pool_or_new(pool, max_workers) as workers:
        futures = [workers.submit(_fetch, client, c, as_of) for c in pending]
        for future in as_completed(futures):
            final = None
            items = []
            for exchange in future.result():
                classified = classify(exchange)
                items.append((exchange, classified))
                summary.requests += 1
                summary.outcomes[classified.outcome] += 1
                summary.schema_drift_fields.update(classified.extra_fields)
                final = classified
            if final is not None:
                summary.final_outcomes[final.outcome] += 1
                if final.error:
                    log.warning("slot %s: %s", slot_start.isoformat(), final.error)
            lander.add(slot_start, items)
            if on_client is not None:
                on_client(summary.polled_clients, len(pending))
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
    lander: Lander,
    *,
    slots: Sequence[datetime],
    as_of_for: Callable[[datetime], datetime | None],
    max_workers: int = 8,
    on_slot: Callable[[int, int, PollSummary], None] | None = None,
    on_client: Callable[[int, int], None] | None = None,
) -> PollSummary:
    """Poll several slots in order (a backfill); `as_of_for(slot)` says which instant to ask.

    Everything is landed (spool included) when this returns.
    """
    total = PollSummary(slot_start=slots[0] if slots else datetime.now(UTC))
    lander.prefetch(slots)
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for index, slot in enumerate(slots, start=1):
            summary = poll_slot(
                client,
                credentials,
                lander,
                slot_start=slot,
                as_of=as_of_for(slot),
                pool=pool,
                on_client=on_client,
            )
            total.merge(summary)
            total.clients = summary.clients
            if on_slot is not None:
                on_slot(index, len(slots), summary)
    lander.finish()
    return total
