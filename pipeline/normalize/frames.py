"""Turn raw response rows into the data contract's `balance_snapshots` and `balance_lines` frames.

Two routes parse the bodies into the same intermediate frames (schema.py): the fast route
(fast.py: a grammar gate on the text, then DuckDB's typed JSON reader) takes the bodies it can
prove well-formed, the strict Python parser (strict.py, the referee) takes every other one.
Everything after that is shared: the checks that derived and summed money fits (fit.py),
`locked` and `implied_rate`, and the choice of one snapshot per (client, slot). Money is exact
throughout (Decimal, never a float; only the derived `implied_rate` is a Float64).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from pipeline.normalize.fast import parse_fast
from pipeline.normalize.fit import overflowing
from pipeline.normalize.schema import (
    BALANCE,
    LINE_SCHEMA,
    PARSED_LINE_SCHEMA,
    PARSED_REJECT_SCHEMA,
    PARSED_SNAPSHOT_SCHEMA,
    RAW_SCHEMA,
    REJECTED_SCHEMA,
    ROW,
    SNAPSHOT_SCHEMA,
)
from pipeline.normalize.strict import OK_CODE, parse_strict, unexpected_failure

__all__ = [
    "DUPLICATE_SNAPSHOT",
    "LINE_SCHEMA",
    "RAW_SCHEMA",
    "REJECTED_SCHEMA",
    "SNAPSHOT_SCHEMA",
    "NormalizedBatch",
    "implied_rate",
    "locked",
    "normalize_raw",
    "normalize_raw_strict",
]

_log = logging.getLogger(__name__)
_KEY = ["client_number", "slot_start"]
DUPLICATE_SNAPSHOT = "duplicate snapshot for slot"
NO_KEY = "raw row has no client_number or slot_start"


@dataclass(frozen=True)
class NormalizedBatch:
    snapshots: pl.DataFrame  # SNAPSHOT_SCHEMA, sorted by (client_number, slot_start)
    lines: pl.DataFrame  # LINE_SCHEMA, sorted by (client_number, slot_start, currency)
    rejected: pl.DataFrame  # REJECTED_SCHEMA, sorted by (client_number, slot_start, raw_id)
    # Schema drift: unknown field name ("Data.Foo" for line fields) -> number of bodies carrying it.
    extra_fields: dict[str, int] = field(default_factory=dict)
    # Bodies the fast route parsed (the rest went through the strict parser).
    fast_bodies: int = 0
    # Bodies given to normalize (each is a snapshot, or rejected, or the loser of a duplicate).
    bodies: int = 0


def locked(balance: str, cash: str) -> pl.Expr:
    """Funds held back from the balance (margin, open orders, pending withdrawals).

    Overflows DECIMAL(38,8) for extreme pairs: fit.py rejects those bodies before this runs.
    """
    return (pl.col(balance) - pl.col(cash)).cast(BALANCE).alias("locked")


def implied_rate(value: str, balance: str) -> pl.Expr:
    """Value_<BASE> / Balance as a float; NULL when the balance is 0 (sign-safe for debts)."""
    rate = pl.col(value).cast(pl.Float64) / pl.col(balance).cast(pl.Float64)
    return pl.when(pl.col(balance) != 0).then(rate).otherwise(None).alias("implied_rate")


@dataclass(frozen=True)
class _Parsed:
    """What the routes made of a batch's bodies, keyed by `_row`, before the one-per-slot rule."""

    snapshots: pl.DataFrame  # PARSED_SNAPSHOT_SCHEMA
    lines: pl.DataFrame  # PARSED_LINE_SCHEMA + locked, implied_rate
    rejects: pl.DataFrame  # PARSED_REJECT_SCHEMA
    extra: Counter[str]
    fast_bodies: int

    @staticmethod
    def merge(parts: list[_Parsed]) -> _Parsed:
        return _Parsed(
            pl.concat([p.snapshots for p in parts]),
            pl.concat([p.lines for p in parts]),
            pl.concat([p.rejects for p in parts]),
            sum((p.extra for p in parts), Counter()),
            sum(p.fast_bodies for p in parts),
        )


def _parse(raw: pl.DataFrame, *, fast: bool) -> _Parsed:
    """Parse `raw` (`_row`, `body`): fast route first when allowed, strict for the rest."""
    if fast:
        quick = parse_fast(raw.select("_row", "body"))
        strict_rows = pl.Series(quick.strict_rows, dtype=ROW).implode()
        rest = raw.filter(pl.col("_row").is_in(strict_rows))
        parts_snap, parts_line = [quick.snapshots], [quick.lines]
    else:
        rest, parts_snap, parts_line = raw, [], []
    strict = parse_strict(rest["_row"].to_list(), rest["body"].to_list())
    strict_snaps, strict_lines, rejects = strict.frames()
    snapshots = pl.concat([*parts_snap, strict_snaps])
    lines = pl.concat([*parts_line, strict_lines])

    too_big = overflowing(snapshots, lines)
    if not too_big.is_empty():
        out = ~pl.col("_row").is_in(too_big["_row"].implode())
        snapshots, lines = snapshots.filter(out), lines.filter(out)
        rejects = pl.concat([rejects, too_big])
    lines = lines.with_columns(locked("balance", "cash"), implied_rate("value_base", "balance"))
    fast_bodies = parts_snap[0].height if fast else 0
    return _Parsed(snapshots, lines, rejects, strict.extra, fast_bodies)


def _parse_isolated(raw: pl.DataFrame, *, fast: bool) -> _Parsed:
    """`_parse`, such that whatever goes wrong with one body rejects that body alone.

    The known hazards have their own rejections (parse.py, fit.py). For anything else that
    raises while a batch is normalized: a failing fast route hands the batch to the strict
    parser; a failing strict batch is halved until the one body that fails is found and
    rejected with a one-line reason, and the rest of the batch normalizes.
    """
    try:
        return _parse(raw, fast=fast)
    except MemoryError:
        raise
    except Exception as exc:
        if fast:
            # Correct but slower: say so, once per batch (the type only: a body never shows).
            _log.warning(
                "fast normalization failed (%s); %d bodies go through the strict parser",
                type(exc).__name__,
                raw.height,
            )
            return _parse_isolated(raw, fast=False)
        if raw.height <= 1:
            rejects = raw.select("_row", error=pl.lit(unexpected_failure(exc)))
            return _Parsed(
                pl.DataFrame(schema=PARSED_SNAPSHOT_SCHEMA),
                _empty_lines(),
                rejects.cast(PARSED_REJECT_SCHEMA),
                Counter(),
                0,
            )
        half = raw.height // 2
        return _Parsed.merge(
            [
                _parse_isolated(raw.slice(0, half), fast=False),
                _parse_isolated(raw.slice(half), fast=False),
            ]
        )


def _empty_lines() -> pl.DataFrame:
    return pl.DataFrame(schema=PARSED_LINE_SCHEMA).with_columns(
        locked("balance", "cash"), implied_rate("value_base", "balance")
    )


def _checked_raw(raw: pl.DataFrame) -> pl.DataFrame:
    missing = [name for name in RAW_SCHEMA if name not in raw.columns]
    if missing:
        raise ValueError(f"raw responses frame lacks column(s) {missing}; expected {RAW_SCHEMA}")
    return raw.select(RAW_SCHEMA.names()).cast(RAW_SCHEMA)


def _finish(raw: pl.DataFrame, parsed: _Parsed) -> NormalizedBatch:
    """Attach each body's keys, keep one snapshot per (client, slot), sort, type."""
    keys = raw.select(*_KEY, "observed_at", "raw_id")
    snapshots = pl.concat([parsed.snapshots, keys[parsed.snapshots["_row"]]], how="horizontal")
    # A snapshot without its natural key cannot be stored; among several for one key the
    # earliest answer wins, so a re-polled slot never replaces what was first observed.
    no_key = pl.any_horizontal(pl.col(_KEY).is_null())
    snapshots = snapshots.sort([*_KEY, "observed_at", "raw_id"], nulls_last=True).with_columns(
        pl.col("raw_id").alias("snapshot_id"),
        (pl.col("response_code") != OK_CODE).alias("is_restricted"),
        _no_key=no_key,
        _lose=no_key | ~pl.struct(_KEY).is_first_distinct(),
    )
    kept = snapshots.filter(~pl.col("_lose"))  # sorted by _KEY, one row per key
    losers = snapshots.filter(pl.col("_lose")).select(
        "raw_id",
        *_KEY,
        error=pl.when(pl.col("_no_key")).then(pl.lit(NO_KEY)).otherwise(pl.lit(DUPLICATE_SNAPSHOT)),
    )
    rejects = parsed.rejects
    parse_rejects = keys[rejects["_row"]].select("raw_id", *_KEY).with_columns(rejects["error"])

    # The kept snapshots' lines, ordered by their snapshot's rank in key order, then currency:
    # the same order as sorting by (client, slot, currency), for less than half the work.
    line_keys = kept.select(
        "_row", *_KEY, "observed_at", "snapshot_id", "base_currency", _rank=pl.int_range(pl.len())
    )
    lines = parsed.lines.join(line_keys, on="_row", how="inner").sort(["_rank", "currency"])
    return NormalizedBatch(
        snapshots=kept.select(SNAPSHOT_SCHEMA.names()),
        lines=lines.select(LINE_SCHEMA.names()),
        rejected=pl.concat([parse_rejects, losers]).sort([*_KEY, "raw_id"], nulls_last=True),
        extra_fields=dict(sorted(parsed.extra.items())),
        fast_bodies=parsed.fast_bodies,
        bodies=raw.height,
    )


def _normalize(raw: pl.DataFrame, *, fast: bool) -> NormalizedBatch:
    raw = _checked_raw(raw).with_row_index("_row")
    return _finish(raw, _parse_isolated(raw, fast=fast))


def normalize_raw(raw: pl.DataFrame) -> NormalizedBatch:
    """Parse raw response bodies into snapshot and line frames of the data contract.

    Bad bodies never raise: they land in `rejected` with a one-line reason. Only balance envelopes
    (ResponseCode 0 with Data, or ResponseCode 1 with or without Data) become snapshots; when
    several arrive for one (client_number, slot_start) the earliest `observed_at` (then smallest
    `raw_id`) wins and the others are rejected as duplicates. A body whose derived or summed
    money would not fit its DECIMAL type (`locked`, Σ values) is rejected alone.

    Args:
        raw: rows of RAW_SCHEMA (`raw_id`, `client_number`, `slot_start`, `observed_at`, `body`).

    Returns:
        A NormalizedBatch whose frames follow SNAPSHOT_SCHEMA, LINE_SCHEMA and REJECTED_SCHEMA.
    """
    return _normalize(raw, fast=True)


def normalize_raw_strict(raw: pl.DataFrame) -> NormalizedBatch:
    """`normalize_raw` with every body through the strict parser: the referee's verdicts,
    against which the fast route is tested and benchmarked."""
    return _normalize(raw, fast=False)
