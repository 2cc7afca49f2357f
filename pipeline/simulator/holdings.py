"""A client's state at one hour: statuses and per-currency balance, cash and rate skew."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from pipeline.simulator.clients import ClientSpec, Holding
from pipeline.simulator.market import ASSETS
from pipeline.simulator.rng import draw

_OUTLIER_SKEW = Decimal("1.015")


@dataclass(frozen=True)
class Line:
    currency: str
    balance: Decimal
    cash: Decimal
    rate_skew: Decimal = Decimal(1)  # != 1 only for an outlier line


@dataclass(frozen=True)
class ClientState:
    erp: int
    web: int
    agency: int
    lines: tuple[Line, ...]  # non-zero balances only, sorted by currency


def _period(seed: int, number: int, holding: Holding, hour: int) -> int:
    # A per-holding phase so that not every client changes on the same hours.
    phase = draw(seed, "phase", number, holding.currency, n=holding.period_hours)
    return (hour + phase) // holding.period_hours


def _balance(seed: int, number: int, holding: Holding, hour: int) -> Decimal:
    if holding.absent is not None and holding.absent.active(hour):
        return Decimal(0)
    if not holding.step:
        return holding.amount
    period = _period(seed, number, holding, hour)
    if period == _period(seed, number, holding, 0):
        return holding.amount  # hour 0 shows the documented amounts
    k = draw(seed, "flow", number, holding.currency, period, n=7) - 3
    return holding.amount + k * holding.step


def _locked(seed: int, number: int, holding: Holding, hour: int, balance: Decimal) -> Decimal:
    locked = holding.stuck_lock
    if holding.flicker_lock and balance > 0:
        # Re-decided every 3 hours: an open order or pending withdrawal, present ~40% of the time.
        window = (hour + draw(seed, "lock-phase", number, holding.currency, n=3)) // 3
        if draw(seed, "lock", number, holding.currency, window, n=100) < 40:
            share = 5 + draw(seed, "lock-share", number, holding.currency, window, n=36)
            quantum = Decimal(1).scaleb(-ASSETS[holding.currency].decimals)
            locked += (balance * share / 100).quantize(quantum, ROUND_DOWN)
    return locked


def state_at(seed: int, spec: ClientSpec, hour: int) -> ClientState:
    erp, web = spec.erp, spec.web
    if spec.status_change is not None and spec.status_change.when.active(hour):
        erp, web = spec.status_change.erp, spec.status_change.web
    outlier = (
        spec.outlier_currency is not None and draw(seed, "outlier", spec.number, hour, n=8) == 0
    )
    lines = []
    for holding in sorted(spec.holdings, key=lambda h: h.currency):
        balance = _balance(seed, spec.number, holding, hour)
        if balance == 0:
            continue  # a zero balance is not reported at all
        cash = balance - _locked(seed, spec.number, holding, hour, balance)
        skew = _OUTLIER_SKEW if outlier and holding.currency == spec.outlier_currency else None
        lines.append(Line(holding.currency, balance, cash, skew or Decimal(1)))
    return ClientState(erp, web, spec.agency, tuple(lines))
