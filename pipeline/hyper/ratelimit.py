"""A client-side request pacer shared by all worker threads (pyrate-limiter's GCRA).

The vendor limits each caller IP to N requests per minute and answers 429 beyond that. A
sliding window of N would let a round burst N requests and then stall for a minute; GCRA with a
burst of 1 spaces requests evenly (one every window/N), so a round of C clients takes C/N
windows and the server's window never sees more than N. A safety margin absorbs the jitter
between when we send and when the server counts: that jitter (thread scheduling, connection
set-up, latency) is absolute time, so the margin is 2 % of the window but never under 0.2 s.
A 1-second window with 2 % left 20 ms, and a loaded machine drew a 429 through it.
"""

from __future__ import annotations

import math

from pyrate_limiter import GCRA, Limiter, Rate, StateBucket

# N requests are spread over the window plus this margin, so jitter never lands N + 1 in one.
SAFETY_MARGIN = 0.02
MIN_JITTER_SECONDS = 0.2


class RequestPacer:
    """Blocks each caller until its request fits the budget of `limit` per `window_seconds`."""

    def __init__(self, limit: float, *, window_seconds: float = 60.0) -> None:
        if limit <= 0 or window_seconds <= 0:
            raise ValueError("limit and window_seconds must be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        interval_ms = math.ceil(self.interval_seconds * 1000)
        self._limiter = Limiter(
            StateBucket([Rate(1, max(1, interval_ms), burst=1)], algorithm=GCRA()), buffer_ms=0
        )

    @property
    def interval_seconds(self) -> float:
        spread = max(
            self.window_seconds * (1 + SAFETY_MARGIN), self.window_seconds + MIN_JITTER_SECONDS
        )
        return spread / self.limit

    def acquire(self) -> None:
        """Wait (blocking) for the next slot of the budget."""
        self._limiter.try_acquire("hyper", blocking=True)

    def __repr__(self) -> str:
        return f"RequestPacer({self.limit:g} per {self.window_seconds:g} s)"


def pacer_for(per_minute: float) -> RequestPacer | None:
    """A pacer for `per_minute` requests a minute; None = unlimited (0 or less)."""
    if per_minute <= 0:
        return None
    return RequestPacer(per_minute, window_seconds=60.0)
