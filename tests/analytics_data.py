"""Crafted rows for analytics tests: a fresh DuckDB with the contract tables, views and helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from pipeline.store import connect
from pipeline.store.derived import refresh_derived

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def slot(hours: float) -> datetime:
    """The slot `hours` after T0 (a Monday, 00:00 UTC)."""
    return T0 + timedelta(hours=hours)


@dataclass
class Book:
    """A crafted database; each method inserts one row (or one snapshot with its lines)."""

    _con: duckdb.DuckDBPyConnection
    _written: list[datetime] = field(default_factory=list)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, once the derived facts of the snapshots written so far are refreshed
        (as every write path does; here once per batch of writes, to keep the tests fast)."""
        self.refresh()
        return self._con

    def refresh(self) -> None:
        """Refresh the derived facts of what was written since the last refresh (before another
        connection, a Dagster run's, reads the file)."""
        if self._written:
            first, last = min(self._written), max(self._written)
            self._written.clear()
            refresh_derived(self._con, first, last + timedelta(microseconds=1))

    @classmethod
    def create(cls, path: Path) -> Book:
        return cls(connect(path))

    def snapshot(
        self,
        client: int,
        hours: float,
        lines: dict[str, tuple[str, str, str]] | None = None,
        *,
        total: str | None = None,
        erp: int = 5,
        web: int = 2,
        restricted: bool = False,
        no_data: bool = False,
        base: str = "ILS",
    ) -> None:
        """A successful poll; lines map currency -> (balance, cash, value_base) as text."""
        lines = lines or {}
        at = slot(hours)
        snapshot_id = f"{client}-{at:%Y%m%d%H%M}"
        values = [Decimal(value) for _, _, value in lines.values()]
        if no_data:
            reported, base_currency = None, None
        else:
            reported = Decimal(total) if total is not None else sum(values, Decimal(0))
            base_currency = base
        self._con.execute(
            """
            insert into balance_snapshots values (
                $client, $slot, $id, $slot, $code, 'msg', $erp, 'erp text', $web, 'web text',
                0, $base, $total, $line_count, $restricted, $id)
            """,
            {
                "client": client,
                "slot": at,
                "id": snapshot_id,
                "code": 1 if restricted else 0,
                "erp": erp,
                "web": web,
                "base": base_currency,
                "total": reported,
                "line_count": len(lines),
                "restricted": restricted,
            },
        )
        for currency, (balance, cash, value) in lines.items():
            b, c, v = Decimal(balance), Decimal(cash), Decimal(value)
            self._con.execute(
                """
                insert into balance_lines values (
                    $client, $slot, $currency, $id, $slot, $base, $balance, $value, $cash,
                    $locked, $rate)
                """,
                {
                    "client": client,
                    "slot": at,
                    "currency": currency,
                    "id": snapshot_id,
                    "base": base,
                    "balance": b,
                    "value": v,
                    "cash": c,
                    "locked": b - c,
                    "rate": float(v) / float(b) if b else None,
                },
            )
        self._written.append(at)
        self.attempt(client, hours, "restricted" if restricted else "ok")

    def attempt(self, client: int, hours: float, outcome: str, error: str | None = None) -> None:
        """One row of fetch_attempts; a failed outcome alone means the slot was not observed."""
        at = slot(hours)
        self._written.append(at)
        self._con.execute(
            """
            insert into fetch_attempts values (
                'run', $slot, $client, 1, $slot, 12.5, $status, $code, $outcome, $error, null)
            """,
            {
                "slot": at,
                "client": client,
                "status": 200 if outcome in ("ok", "restricted") else 503,
                "code": 0 if outcome == "ok" else None,
                "outcome": outcome,
                "error": error,
            },
        )

    def rows(self, sql: str, params: dict | None = None) -> list[dict]:
        cursor = self.con.execute(sql, params or {})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
