"""Constants and configuration shared by the simulator's modules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipeline.settings import SIMULATOR_BASE_CURRENCIES

if TYPE_CHECKING:
    from pipeline.simulator.faults import FaultPlan
    from pipeline.simulator.gateway import AuthSpec, RateLimitSpec

AS_OF_HEADER = "X-Simulator-As-Of"
"""Request header (simulator only) asking for the answer "as of" an ISO-8601 instant."""

SEED_EXAMPLE_CLIENT = 500608
SEED_EXAMPLE_PASSWORD = "8Lba7u5smABC"
SEED_EXAMPLE_INSTANT = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
"""Hour 0 of every price walk: at this instant client 500608 answers the seed's figures."""

BASE_CURRENCIES = SIMULATOR_BASE_CURRENCIES


@dataclass(frozen=True)
class SimulatorConfig:
    """One simulated Hyper instance.

    `seed` fixes passwords, prices and balances; `base_currency` is the instance's accounting
    currency (it names the `Value_<BASE>` fields); `n_extra_clients` adds ordinary clients after
    the demo book for load tests; `port` 0 picks a free port. `faults`, `auth` and `rate_limit`
    turn on the hostile behaviours (faults on demand, bearer tokens, a per-caller 429 limit).
    """

    seed: int = 42
    base_currency: str = "ILS"
    n_extra_clients: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    faults: FaultPlan | None = None
    auth: AuthSpec | None = None
    rate_limit: RateLimitSpec | None = None

    def __post_init__(self) -> None:
        if self.base_currency not in BASE_CURRENCIES:
            raise ValueError(
                f"base_currency {self.base_currency!r} is not supported; "
                f"use one of {', '.join(BASE_CURRENCIES)}"
            )
        if self.n_extra_clients < 0:
            raise ValueError(f"n_extra_clients must be >= 0, got {self.n_extra_clients}")


def hour_index(instant: datetime) -> int:
    """Whole hours from SEED_EXAMPLE_INSTANT to `instant` (floored; negative before it).

    Everything the simulator answers is constant within one such hour.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware (UTC)")
    delta = instant - SEED_EXAMPLE_INSTANT
    # timedelta keeps seconds in [0, 86400), so integer floor division floors negatives too.
    return (delta.days * 86_400 + delta.seconds) // 3_600
