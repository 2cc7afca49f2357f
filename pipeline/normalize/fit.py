"""Money that is derived or summed must fit its DECIMAL type, checked per body before computing.

Every parsed amount fits (at most 30 integer digits), but `locked = balance - cash` can reach
2 * 10^30 (Balance 999...9.99999999 with Cash -999...9.99999999) and overflow DECIMAL(38,8);
polars then raises for the whole column and the whole batch would fail. The sum of a body's
values (reconciliation: Σ Value_<BASE>, and the reported total minus that sum) must fit
DECIMAL(38,2). A body that breaks either is rejected alone, with a one-line reason.

The screens below use float64 only to decide which rows cannot possibly come near a limit
(1% of margin dwarfs float rounding); rows that can are checked exactly with Decimal. No
stored money is ever computed through a float.
"""

from __future__ import annotations

from decimal import Context, Decimal

import polars as pl

from pipeline.normalize.parse import ParsedEnvelope
from pipeline.normalize.schema import PARSED_REJECT_SCHEMA, ROW, VALUE

# Every operation goes through this context (or copy_abs): the default one keeps 28 digits and
# would round 38-digit amounts, even inside abs().
_EXACT = Context(prec=80)
BALANCE_LIMIT = Decimal(10) ** 30  # DECIMAL(38,8) holds |x| < 10^30
VALUE_LIMIT = Decimal(10) ** 36  # DECIMAL(38,2) holds |x| < 10^36
_MARGIN = 0.99
# A body's Int128 sum of whole units cannot wrap while lines * max |units| stays below this.
_INT128_SUM_BOUND = 2**126


def _f(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64).abs()


def _locked_overflows(lines: pl.DataFrame) -> list[tuple[int, str]]:
    bound = lines.select(_f("balance").max() + _f("cash").max()).item()
    if bound is None or bound < _MARGIN * float(BALANCE_LIMIT):
        return []  # no line of the batch can come near the limit
    near = (pl.col("balance").cast(pl.Float64) - pl.col("cash").cast(pl.Float64)).abs()
    rows = lines.filter(near >= _MARGIN * float(BALANCE_LIMIT))["_row"].unique().implode()
    # Lines keep their body order, so a line's index in Data is its rank within its body.
    risky = lines.filter(pl.col("_row").is_in(rows)).with_columns(
        position=pl.int_range(pl.len()).over("_row")
    )
    return [
        (
            row,
            f"Data[{position}] ({currency}) Balance - Cash does not fit DECIMAL(38,8) "
            "(locked funds would overflow)",
        )
        for row, position, currency, balance, cash in risky.select(
            "_row", "position", "currency", "balance", "cash"
        ).iter_rows()
        if _EXACT.subtract(balance, cash).copy_abs() >= BALANCE_LIMIT
    ]


def _cents(amount: Decimal) -> int:
    """An amount of at most 2 decimals in cents, exactly (Decimal's default context would
    round past 28 digits)."""
    return int(_EXACT.scaleb(amount, 2))


def _exact_cents(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """A DECIMAL(38,2) amount as whole units (Int128) and the cents left (-99..99, Int64):
    value * 100 == units * 100 + cents exactly, and both sum without a float or a rounding."""
    units = value.cast(pl.Int128)  # truncates toward zero
    cents = ((value - units.cast(VALUE)) * 100).cast(pl.Int64)
    return units, cents


def _sum_overflows(snapshots: pl.DataFrame, lines: pl.DataFrame) -> list[tuple[int, str]]:
    total = _f("total_floating_balance")
    bound = lines.select(_f("value_base").sum()).item() + (
        snapshots.select(total.max()).item() or 0.0
    )
    if bound < _MARGIN * float(VALUE_LIMIT):
        return []  # even every value of the batch added up cannot come near the limit
    units, cents = _exact_cents(pl.col("value_base"))
    per_body = lines.group_by("_row").agg(
        _f("value_base").sum().alias("_sum"),
        units.sum().alias("_units"),
        cents.sum().alias("_cents"),
        pl.len().alias("_lines"),
        units.abs().max().alias("_largest"),
    )
    risky = (
        snapshots.join(per_body, on="_row")
        .filter(pl.col("_sum") + total.fill_null(0.0) >= _MARGIN * float(VALUE_LIMIT))
        .select(
            "_row",
            "base_currency",
            "total_floating_balance",
            "_units",
            "_cents",
            "_lines",
            "_largest",
        )
    )
    limit = int(VALUE_LIMIT) * 100  # in cents
    found = []
    for row, base, reported, unit_sum, cent_sum, count, largest in risky.iter_rows():
        if count * largest < _INT128_SUM_BOUND:  # the Int128 sum cannot have wrapped
            lines_sum = unit_sum * 100 + cent_sum
        else:  # parsed amounts (< 10^30) would need 10^8 lines: add them one by one
            lines_sum = sum(
                _cents(value)
                for value in lines.filter(pl.col("_row") == row)["value_base"].to_list()
            )
        if abs(lines_sum) >= limit:
            found.append((row, f"the lines' Value_{base} sum does not fit DECIMAL(38,2)"))
        elif reported is not None and abs(_cents(reported) - lines_sum) >= limit:
            found.append(
                (
                    row,
                    f"Total_Floating_Balance_{base} minus the lines' sum does not fit "
                    "DECIMAL(38,2)",
                )
            )
    return found


def overflowing(snapshots: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Bodies whose derived or summed money would not fit its DECIMAL type.

    Args:
        snapshots: PARSED_SNAPSHOT_SCHEMA rows.
        lines: PARSED_LINE_SCHEMA rows of those snapshots.

    Returns:
        PARSED_REJECT_SCHEMA: one row per offending body (its first reason).
    """
    found = dict(reversed(_sum_overflows(snapshots, lines) + _locked_overflows(lines)))
    rows = sorted(found)
    return pl.DataFrame(
        {"_row": pl.Series(rows, dtype=ROW), "error": [found[r] for r in rows]},
        schema=PARSED_REJECT_SCHEMA,
    )


def envelope_overflow(envelope: ParsedEnvelope) -> str | None:
    """The same verdict as `overflowing` for one parsed envelope (exact, Decimal only).

    Classification calls it when an answer lands, so the attempt's outcome already says
    `invalid_response` for a body normalization would reject. Reasons come in the same order
    of precedence as `overflowing`: the sums first, then a line's lock.
    """
    base = envelope.base_currency
    lines_sum = Decimal(0)
    for line in envelope.lines:
        lines_sum = _EXACT.add(lines_sum, Decimal(line.value_base))
    reported = envelope.total_floating_balance
    if lines_sum.copy_abs() >= VALUE_LIMIT:
        return f"the lines' Value_{base} sum does not fit DECIMAL(38,2)"
    if reported is not None and (
        _EXACT.subtract(Decimal(reported), lines_sum).copy_abs() >= VALUE_LIMIT
    ):
        return f"Total_Floating_Balance_{base} minus the lines' sum does not fit DECIMAL(38,2)"
    for position, line in enumerate(envelope.lines):
        if _EXACT.subtract(Decimal(line.balance), Decimal(line.cash)).copy_abs() >= BALANCE_LIMIT:
            return (
                f"Data[{position}] ({line.currency}) Balance - Cash does not fit DECIMAL(38,8) "
                "(locked funds would overflow)"
            )
    return None
