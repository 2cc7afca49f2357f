"""Exchange rates: one geometric random walk per currency, in hourly steps.

Each walk is priced in ILS and anchored at hour 0 (SEED_EXAMPLE_INSTANT) to values chosen so
that the seed example's figures come out exactly. The step from hour h-1 to h is a factor
`1 + move * k / 1000` with k a hashed integer in [-1000, 1000], so the walk is pure Decimal
arithmetic on integers: identical on every platform. Walks are cached and extended on demand
in both directions from the anchor.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

from pipeline.simulator.rng import draw

# Prices keep 12 significant digits: enough that round2(balance x rate) is stable, few enough
# that the walk stays cheap.
_PRICE = Context(prec=12, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Asset:
    code: str
    decimals: int  # of Data.Balance / Data.Cash: 2 for fiat, 8 for crypto
    anchor_ils: Decimal  # price in ILS at hour 0
    hourly_move: Decimal  # largest relative move in one hour


ASSETS: dict[str, Asset] = {
    asset.code: asset
    for asset in (
        Asset("ILS", 2, Decimal(1), Decimal(0)),
        # 1064.15 x 3 = 3192.45, but the seed shows 3192.44: the anchor sits just below 3.
        Asset("USD", 2, Decimal("2.999995"), Decimal("0.0015")),
        Asset("EUR", 2, Decimal("3.2514"), Decimal("0.0015")),
        # 25133.8 / 0.10790961 = 232915.3075...; any rate in [232915.27, 232915.35] reproduces it.
        Asset("BTC", 8, Decimal("232915.31"), Decimal("0.006")),
        # 17208.41 / 2.47121843 = 6963.53256...; the window is only 0.004 wide.
        Asset("ETH", 8, Decimal("6963.5325"), Decimal("0.008")),
        Asset("USDT", 8, Decimal("2.9987"), Decimal("0.0015")),
        Asset("SOL", 8, Decimal("452.17"), Decimal("0.01")),
        Asset("PEPE", 8, Decimal("0.0000312457"), Decimal("0.02")),
    )
}


class PriceWalk:
    """The ILS price of one asset at any hour index (thread-safe, memoised)."""

    def __init__(self, seed: int, asset: Asset) -> None:
        self._seed = seed
        self._asset = asset
        self._forward = [asset.anchor_ils]  # hours 0, 1, 2, ...
        self._backward = [asset.anchor_ils]  # hours 0, -1, -2, ...
        self._lock = threading.Lock()

    def _factor(self, hour: int) -> Decimal:
        """The move from hour-1 to hour."""
        k = draw(self._seed, "walk", self._asset.code, hour, n=2001) - 1000
        return 1 + self._asset.hourly_move * k / 1000

    def at(self, hour: int) -> Decimal:
        if self._asset.hourly_move == 0:
            return self._asset.anchor_ils
        with self._lock:
            if hour >= 0:
                prices = self._forward
                while len(prices) <= hour:
                    prices.append(_PRICE.multiply(prices[-1], self._factor(len(prices))))
                return prices[hour]
            prices = self._backward
            while len(prices) <= -hour:
                later = -(len(prices) - 1)  # price(later - 1) = price(later) / factor(later)
                prices.append(_PRICE.divide(prices[-1], self._factor(later)))
            return prices[-hour]


class Market:
    """All walks of one seed; `rate` converts a currency into the accounting currency."""

    def __init__(self, seed: int) -> None:
        self._walks = {code: PriceWalk(seed, asset) for code, asset in ASSETS.items()}

    def rate(self, currency: str, base: str, hour: int) -> Decimal:
        if currency == base:
            return Decimal(1)
        price = self._walks[currency].at(hour)
        if base == "ILS":
            return price
        return _PRICE.divide(price, self._walks[base].at(hour))


@lru_cache(maxsize=8)
def market(seed: int) -> Market:
    return Market(seed)
