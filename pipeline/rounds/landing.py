"""Landing a round's answers: short write sessions, and the spool when a reader holds the file.

HTTP never runs inside a write session. Answers collect in memory and are landed in one short
transaction when enough have arrived (or enough time has passed); if the file is busy for more
than a moment the batch goes to the spool instead, durably, and the round goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.archive.spool import Spool
from pipeline.hyper import Exchange
from pipeline.normalize.outcomes import Classified
from pipeline.store import Database, DatabaseBusy, landing_batch

log = logging.getLogger(__name__)

# Land when this many answers wait, or when the oldest has waited this long: one commit per
# batch keeps the file free for readers between batches, and a crash loses at most one batch
# (which a re-run of the slot asks again: nothing of it had landed). A session costs about the
# same whatever its size (opening the file, three inserts, closing it: ~0.1 s alone, ~0.3 s
# while the round's HTTP workers share the interpreter), so a fast round lands in few of them:
# at 64 answers a 1,542-answer round spent 25 x 0.3 s landing and polled at 170 requests/s;
# at 256, 7 sessions, 256-320 requests/s, and the file is free between them. A paced round lands
# by age instead, an answer or a few at a time.
LANDING_BATCH = 256
LANDING_MAX_AGE_SECONDS = 2.0
# Land too when this much body text waits: an instance answering with bodies at the 10 MB cap
# would otherwise hold 2.5 GB in memory before a batch of 256 filled.
LANDING_MAX_BYTES = 64 * 1024 * 1024
# How long a landing waits for a reader before spooling the batch instead.
BUSY_WAIT_SECONDS = 1.0


@dataclass
class LandingStats:
    batches: int = 0
    spooled: int = 0
    spool_loads: int = 0
    seconds_in_sessions: float = 0.0
    longest_session: float = 0.0
    answers: int = 0

    @property
    def overhead_per_batch(self) -> float:
        return self.seconds_in_sessions / self.batches if self.batches else 0.0


@dataclass
class Lander:
    """Collects a run's answers and lands them in short sessions (or spools them)."""

    db: Database
    run_id: str
    labels: Mapping[int, str | None]
    busy_wait_seconds: float = BUSY_WAIT_SECONDS
    batch_size: int = LANDING_BATCH
    max_age_seconds: float = LANDING_MAX_AGE_SECONDS
    max_bytes: int = LANDING_MAX_BYTES
    stats: LandingStats = field(default_factory=LandingStats)
    # Answers as they arrived; their frames are built once, when they land.
    _pending: list[tuple[datetime, Exchange, Classified]] = field(default_factory=list)
    _pending_bytes: int = 0
    _oldest: float | None = None
    _known: dict[datetime, set[int]] = field(default_factory=dict)

    @property
    def spool(self) -> Spool:
        return Spool.beside(self.db.path)

    def prefetch(self, slots: Sequence[datetime]) -> None:
        """Learn the usable answers of many slots in one session (a backfill's range)."""
        if not slots:
            return
        started = time.perf_counter()
        with self.db.writer() as store:
            self.stats.spool_loads += self.spool.load_into(store)
            found = store.usable_clients_between(min(slots), max(slots))
        self._timed(started)
        self._known = {slot: found.get(slot, set()) for slot in slots}

    def usable_clients(self, slot_start: datetime) -> set[int]:
        """Clients that need no poll in the slot: answered usably, landed or spooled.

        Waits for the file as long as any writer would (PIPELINE_LOCK_TIMEOUT_SECONDS): which
        clients to ask cannot be decided without it.
        """
        if slot_start in self._known:
            return self._known.pop(slot_start) | self.spool.usable_clients(slot_start)
        self.prefetch([slot_start])
        return self.usable_clients(slot_start)

    def add(self, slot_start: datetime, items: Sequence[tuple[Exchange, Classified]]) -> None:
        if not items:
            return
        self._pending += [(slot_start, exchange, classified) for exchange, classified in items]
        self._pending_bytes += sum(len(e.body) for e, _ in items if e.body is not None)
        self.stats.answers += len(items)
        if self._oldest is None:
            self._oldest = time.monotonic()
        old = time.monotonic() - self._oldest >= self.max_age_seconds
        full = len(self._pending) >= self.batch_size or self._pending_bytes >= self.max_bytes
        if full or old:
            self.flush()

    def flush(self, *, wait_seconds: float | None = None) -> None:
        """Land what waits: spool first (it is older), then the batch; spool it if busy."""
        if not self._pending:
            return
        batch = landing_batch(self.run_id, self._pending, self.labels)
        self._pending, self._pending_bytes, self._oldest = [], 0, None
        wait = self.busy_wait_seconds if wait_seconds is None else wait_seconds
        started = time.perf_counter()
        try:
            with self.db.writer(wait_seconds=wait) as store:
                self.stats.spool_loads += self.spool.load_into(store)
                store.land(batch)
            self.stats.batches += 1
            self._timed(started)
        except DatabaseBusy:
            path = self.spool.write(batch)
            self.stats.spooled += 1
            log.info("database busy (a reader holds it): %d answers spooled to %s",
                     batch.answers, path.name)  # fmt: skip

    def finish(self) -> None:
        """Land everything, waiting as long as a writer may: nothing stays in the spool."""
        self.flush(wait_seconds=self.db.lock_timeout_seconds)
        if self.spool.files():
            started = time.perf_counter()
            with self.db.writer() as store:
                self.stats.spool_loads += self.spool.load_into(store)
            self._timed(started)

    def _timed(self, started: float) -> None:
        seconds = time.perf_counter() - started
        self.stats.seconds_in_sessions += seconds
        self.stats.longest_session = max(self.stats.longest_session, seconds)
