"""The simulated instance's client book: the demo clients and generated extra clients.

Amounts are the balances at hour 0 (SEED_EXAMPLE_INSTANT); `holdings.py` turns a spec into the
state at any hour. Demo clients 500601..500614 each exist to exercise one situation the pipeline
must handle (see `label`); extra clients (500615 on) are ordinary accounts for load tests.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from typing import Any

from pipeline.simulator.config import SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_PASSWORD
from pipeline.simulator.market import ASSETS
from pipeline.simulator.rng import draw

FIRST_DEMO_CLIENT = 500601
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Recurring:
    """Hours h with (h - start) mod cycle < length: a window that repeats every `cycle` hours."""

    cycle: int
    start: int
    length: int

    def active(self, hour: int) -> bool:
        return (hour - self.start) % self.cycle < self.length


@dataclass(frozen=True)
class Holding:
    """One currency of one client.

    The balance is `amount + k * step`, with k in [-3, 3] drawn once per `period_hours` (k = 0 in
    the period holding hour 0), and exactly 0 while `absent` is active (so the currency vanishes
    from Data). `stuck_lock` is always reserved; `flicker_lock` reserves a varying share of the
    balance in some periods only.
    """

    currency: str
    amount: Decimal
    step: Decimal = Decimal(0)
    period_hours: int = 12
    absent: Recurring | None = None
    stuck_lock: Decimal = Decimal(0)
    flicker_lock: bool = False


@dataclass(frozen=True)
class StatusChange:
    """ERP/web statuses that replace the client's usual ones while `when` is active."""

    when: Recurring
    erp: int
    web: int


@dataclass(frozen=True)
class ClientSpec:
    number: int
    label: str
    password: str = field(repr=False)
    holdings: tuple[Holding, ...] = ()
    erp: int = 5
    web: int = 2
    agency: int = 0
    status_change: StatusChange | None = None
    restricted_body: bool = True  # ResponseCode 1 still carries Data and the total
    outlier_currency: str | None = None  # valued at a slightly wrong rate in some hours


def password_for(seed: int, number: int) -> str:
    if number == SEED_EXAMPLE_CLIENT:
        return SEED_EXAMPLE_PASSWORD
    return "".join(
        _PASSWORD_ALPHABET[draw(seed, "password", number, i, n=len(_PASSWORD_ALPHABET))]
        for i in range(12)
    )


def _h(currency: str, amount: str, step: str = "0", **kwargs: Any) -> Holding:
    return Holding(currency, Decimal(amount), Decimal(step), **kwargs)


def _demo_specs(seed: int) -> list[ClientSpec]:
    def spec(number: int, label: str, *holdings: Holding, **kwargs: Any) -> ClientSpec:
        return ClientSpec(number, label, password_for(seed, number), holdings, **kwargs)

    return [
        spec(
            500601,
            "fiat ILS/USD/EUR, deposits and withdrawals, pending withdrawal comes and goes",
            _h("ILS", "152340.50", "4500.00", period_hours=9, flicker_lock=True),
            _h("USD", "12000.00", "750.00", period_hours=17),
            _h("EUR", "8400.00", "1200.00", period_hours=23),
        ),
        spec(
            500602,
            "crypto BTC/ETH/USDT/SOL, open limit orders come and go",
            _h("BTC", "1.25000000", "0.05000000", period_hours=7, flicker_lock=True),
            _h("ETH", "14.50000000", "0.75000000", period_hours=11),
            _h("SOL", "220.12500000", "12.50000000", period_hours=13, flicker_lock=True),
            _h("USDT", "50000.00000000", "2500.00000000", period_hours=5),
            agency=2,
        ),
        spec(
            500603,
            "meme-coin whale: PEPE with 12 integer digits and 8 decimals",
            _h("PEPE", "150000000000.12345678", "2500000000.00000001", period_hours=6),
            _h("ILS", "1000.00"),
        ),
        spec(
            500604,
            "dust: exactly 0.00000001 BTC",
            _h("BTC", "0.00000001"),
            _h("USD", "5.00"),
        ),
        spec(
            500605,
            "debt: negative ILS balance",
            _h("ILS", "-12500.75", "250.25", period_hours=10),
            _h("USD", "300.00"),
        ),
        spec(
            500606,
            "stuck lock: 7500 USDT reserved for every hour",
            _h("USDT", "25000.00000000", "1000.00000000", period_hours=8, stuck_lock=Decimal(7500)),
            _h("ETH", "3.20000000", "0.10000000", period_hours=19),
        ),
        spec(500607, "empty: no balances, Data []"),
        spec(
            SEED_EXAMPLE_CLIENT,
            "the seed's example: its exact figures at SEED_EXAMPLE_INSTANT; 2000 ILS margin",
            _h("BTC", "0.10790961", "0.00500000", period_hours=24),
            _h("ETH", "2.47121843", "0.10000000", period_hours=24),
            _h("ILS", "27354.00", "500.00", period_hours=24, stuck_lock=Decimal(2000)),
            _h("USD", "1064.15", "100.00", period_hours=24),
        ),
        spec(
            500609,
            "suspended (ERP 6, ResponseCode 1) 9 hours of every 50, balance body kept",
            _h("EUR", "23000.00", "1000.00", period_hours=12),
            _h("BTC", "0.42000000", "0.02000000", period_hours=12),
            status_change=StatusChange(Recurring(cycle=50, start=20, length=9), erp=6, web=2),
        ),
        spec(
            500610,
            "restricted, no body: new client (ERP 0), web pending approval (1)",
            erp=0,
            web=1,
            restricted_body=False,
        ),
        spec(
            500611,
            "restricted with body: not interested (ERP 3), web on hold (3)",
            _h("USD", "640.00", "40.00", period_hours=30),
            erp=3,
            web=3,
            agency=1,
        ),
        spec(
            500612,
            "approved client (ERP 4); SOL and USD vanish to zero and come back",
            _h("ILS", "5400.00", "300.00", period_hours=14),
            _h("SOL", "35.00000000", "2.50000000", period_hours=9, absent=Recurring(30, 10, 6)),
            _h("USD", "900.00", absent=Recurring(41, 25, 11)),
            erp=4,
        ),
        spec(
            500613,
            "outlier: ETH valued at a 1.5% off rate in about 1 hour of 8",
            _h("ETH", "6.00000000", "0.25000000", period_hours=15),
            _h("BTC", "0.08000000"),
            outlier_currency="ETH",
        ),
        spec(
            500614,
            "restricted, no body: suspended (ERP 6) and web blocked (0)",
            _h("ILS", "800.00"),
            erp=6,
            web=0,
            agency=3,
            restricted_body=False,
        ),
    ]


# Typical holding size per currency for generated clients (the draw scales it 0.001x..4x).
_TYPICAL = {
    "ILS": Decimal(20000),
    "USD": Decimal(5000),
    "EUR": Decimal(4000),
    "BTC": Decimal("0.5"),
    "ETH": Decimal(5),
    "USDT": Decimal(3000),
    "SOL": Decimal(40),
    "PEPE": Decimal(50_000_000),
}


def _extra_spec(seed: int, number: int) -> ClientSpec:
    currencies = sorted(_TYPICAL)
    chosen = [c for c in currencies if draw(seed, "extra-holds", number, c, n=100) < 35]
    if not chosen:
        chosen = [currencies[draw(seed, "extra-one", number, n=len(currencies))]]
    holdings = []
    for currency in chosen:
        quantum = Decimal(1).scaleb(-ASSETS[currency].decimals)
        scale = Decimal(1 + draw(seed, "extra-amount", number, currency, n=4000)) / 1000
        amount = (_TYPICAL[currency] * scale).quantize(quantum, ROUND_DOWN)
        holdings.append(
            Holding(
                currency,
                amount,
                step=(amount / 8).quantize(quantum, ROUND_DOWN),
                period_hours=6 + draw(seed, "extra-period", number, currency, n=25),
                flicker_lock=draw(seed, "extra-lock", number, currency, n=100) < 30,
            )
        )
    return ClientSpec(
        number,
        "extra: ordinary generated client",
        password_for(seed, number),
        tuple(holdings),
        erp=4 if draw(seed, "extra-erp", number, n=5) == 0 else 5,
        agency=draw(seed, "extra-agency", number, n=4),
    )


@lru_cache(maxsize=8)
def client_book(seed: int, n_extra_clients: int) -> dict[int, ClientSpec]:
    """Every client of an instance, by client number, in number order."""
    specs = _demo_specs(seed)
    first_extra = specs[-1].number + 1
    specs += [_extra_spec(seed, first_extra + i) for i in range(n_extra_clients)]
    return {spec.number: spec for spec in specs}
