"""Numbers and tables formatted for people: thousands separators, fixed decimals per currency,
readable headers, right-aligned figures, wide tables that scroll instead of being cut off.

Decimals are formatted from their exact value (`format(Decimal, ",.2f")`), never via a float.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

import polars as pl

MINUS = "−"  # a true minus sign: as wide as a digit, so columns stay aligned
MISSING = "—"
MONEY_DECIMALS = 2  # value_base and totals are DECIMAL(38,2)
DEFAULT_QUANTITY_DECIMALS = 8  # balance, cash and locked are DECIMAL(38,8)
RATE_SIGNIFICANT_DIGITS = 7
MAX_ROWS = 200  # longer tables show their first rows and say how many there are


def number(value: Decimal | int | float | None, decimals: int) -> str:
    """`1,234,567.89`; negative with a minus sign; None as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    text = f"{value:,.{decimals}f}"
    return MINUS + text[1:] if text.startswith("-") else text


def rate(value: float | None) -> str:
    """A rate with 7 significant digits in fixed notation (0.00003215, 312,456.7)."""
    if value is None or math.isnan(value):
        return MISSING
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    return number(value, min(12, max(0, RATE_SIGNIFICANT_DIGITS - 1 - magnitude)))


def share(value: float | None) -> str:
    """A share (0..1) as a percentage with two decimals."""
    return MISSING if value is None else f"{number(value * 100, 2)} %"


def instant(value: datetime | None) -> str:
    """An instant in UTC to the minute (the report says UTC once, in its header)."""
    return MISSING if value is None else f"{value:%Y-%m-%d %H:%M}"


def text(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass(frozen=True)
class Column:
    """One column of a people's table.

    kind: `id` (plain digits), `count`, `money` (2 decimals), `quantity` (the decimals of the
    row's currency), `rate`, `share`, `hours`, `instant`, `text`.
    """

    key: str
    header: str
    kind: str = "text"


_NUMERIC = {"count", "money", "quantity", "rate", "share", "hours"}


def _cell(column: Column, row: Mapping[str, Any], decimals: Mapping[str, int]) -> str:
    value = row[column.key]
    if column.kind == "id":
        return text(value)
    if column.kind == "count":
        return number(value, 0)
    if column.kind == "money":
        return number(value, MONEY_DECIMALS)
    if column.kind == "quantity":
        return number(value, decimals.get(row.get("currency") or "", DEFAULT_QUANTITY_DECIMALS))
    if column.kind == "rate":
        return rate(value)
    if column.kind == "share":
        return share(value)
    if column.kind == "hours":
        return number(value, 1)
    if column.kind == "instant":
        return instant(value)
    return text(value)


def _negative(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool) and value < 0


def table(
    frame: pl.DataFrame,
    columns: Sequence[Column],
    *,
    decimals: Mapping[str, int] | None = None,
    empty: str = "No rows.",
    caption: str | None = None,
    row_class: Callable[[Mapping[str, Any]], str] | None = None,
) -> str:
    """An HTML table of `frame` with the given columns, inside a horizontally scrolling box."""
    if frame.height == 0:
        return f'<p class="empty">{escape(empty)}</p>'
    decimals = decimals or {}
    head = "".join(
        f'<th class="{"num" if c.kind in _NUMERIC else "txt"}" scope="col">{escape(c.header)}</th>'
        for c in columns
    )
    body = []
    for row in frame.head(MAX_ROWS).iter_rows(named=True):
        cells = []
        for c in columns:
            classes = ["num" if c.kind in _NUMERIC else "txt"]
            if c.kind in _NUMERIC and _negative(row[c.key]):
                classes.append("neg")
            cells.append(f'<td class="{" ".join(classes)}">{escape(_cell(c, row, decimals))}</td>')
        extra = f' class="{row_class(row)}"' if row_class else ""
        body.append(f"<tr{extra}>{''.join(cells)}</tr>")
    note = ""
    if frame.height > MAX_ROWS:
        note = f'<p class="note">First {MAX_ROWS:,} of {frame.height:,} rows.</p>'
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{note}"
    )
