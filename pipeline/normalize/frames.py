"""Turn raw response rows into the data contract's `balance_snapshots` and `balance_lines` frames.

Money crosses from parse.py to polars as exact decimal *text* and is cast to Decimal inside
polars: no value ever passes through a float (only the derived `implied_rate` is a Float64).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from pipeline.normalize.parse import InvalidResponse, ParsedEnvelope, parse_envelope

_UTC = pl.Datetime("us", "UTC")
_BALANCE = pl.Decimal(38, 8)
_VALUE = pl.Decimal(38, 2)
_KEY = ["client_number", "slot_start"]

RAW_SCHEMA = pl.Schema(
    {
        "raw_id": pl.String,
        "client_number": pl.Int64,
        "slot_start": _UTC,
        "observed_at": _UTC,
        "body": pl.String,
    }
)
SNAPSHOT_SCHEMA = pl.Schema(
    {
        "client_number": pl.Int64,
        "slot_start": _UTC,
        "snapshot_id": pl.String,
        "observed_at": _UTC,
        "response_code": pl.Int32,
        "response_message": pl.String,
        "erp_account_status": pl.Int32,
        "erp_account_status_text": pl.String,
        "web_account_status": pl.Int32,
        "web_account_status_text": pl.String,
        "agency": pl.Int32,
        "base_currency": pl.String,
        "total_floating_balance": _VALUE,
        "line_count": pl.Int32,
        "is_restricted": pl.Boolean,
        "raw_id": pl.String,
    }
)
LINE_SCHEMA = pl.Schema(
    {
        "client_number": pl.Int64,
        "slot_start": _UTC,
        "currency": pl.String,
        "snapshot_id": pl.String,
        "observed_at": _UTC,
        "base_currency": pl.String,
        "balance": _BALANCE,
        "value_base": _VALUE,
        "cash": _BALANCE,
        "locked": _BALANCE,
        "implied_rate": pl.Float64,
    }
)
REJECTED_SCHEMA = pl.Schema(
    {
        "raw_id": pl.String,
        "client_number": pl.Int64,
        "slot_start": _UTC,
        "error": pl.String,
    }
)
DUPLICATE_SNAPSHOT = "duplicate snapshot for slot"

# ResponseCode 0 = OK, 1 = restrictive status (hyper_api.md §3, §4).
_OK, _RESTRICTED = 0, 1


@dataclass(frozen=True)
class NormalizedBatch:
    snapshots: pl.DataFrame  # SNAPSHOT_SCHEMA, sorted by (client_number, slot_start)
    lines: pl.DataFrame  # LINE_SCHEMA, sorted by (client_number, slot_start, currency)
    rejected: pl.DataFrame  # REJECTED_SCHEMA, sorted by (client_number, slot_start, raw_id)
    # Schema drift: unknown field name ("Data.Foo" for line fields) -> number of bodies carrying it.
    extra_fields: dict[str, int] = field(default_factory=dict)


def locked(balance: str, cash: str) -> pl.Expr:
    """Funds held back from the balance (margin, open orders, pending withdrawals)."""
    return (pl.col(balance) - pl.col(cash)).cast(_BALANCE).alias("locked")


def implied_rate(value: str, balance: str) -> pl.Expr:
    """Value_<BASE> / Balance as a float; NULL when the balance is 0 (sign-safe for debts)."""
    rate = pl.col(value).cast(pl.Float64) / pl.col(balance).cast(pl.Float64)
    return pl.when(pl.col(balance) != 0).then(rate).otherwise(None).alias("implied_rate")


def _rejection(envelope: ParsedEnvelope) -> str | None:
    """Why an envelope that parsed is still not a balance snapshot (None: it is one)."""
    code = envelope.response_code
    if code == _RESTRICTED or (code == _OK and envelope.has_balance_data):
        return None
    if code == _OK:
        return "ResponseCode 0 without Data: not a balance envelope"
    message = envelope.response_message
    shown = f": {message[:80]!r}" if message else ""
    return f"API error envelope, ResponseCode {code}{shown}"


class _Columns:
    """Column lists built in one pass over the bodies, turned into frames once at the end."""

    def __init__(self) -> None:
        self.snap_row: list[int] = []
        self.snap: dict[str, list] = {
            name: []
            for name in SNAPSHOT_SCHEMA
            if name not in {*_KEY, "snapshot_id", "observed_at", "raw_id", "is_restricted"}
        }
        self.line_row: list[int] = []
        self.line: dict[str, list] = {
            n: [] for n in ("currency", "base_currency", "balance", "value_base", "cash")
        }
        self.rejected_row: list[int] = []
        self.rejected_error: list[str] = []
        self.extra: Counter[str] = Counter()

    def add(self, row: int, env: ParsedEnvelope) -> None:
        s = self.snap
        self.snap_row.append(row)
        s["response_code"].append(env.response_code)
        s["response_message"].append(env.response_message)
        s["erp_account_status"].append(env.erp_account_status)
        s["erp_account_status_text"].append(env.erp_account_status_text)
        s["web_account_status"].append(env.web_account_status)
        s["web_account_status_text"].append(env.web_account_status_text)
        s["agency"].append(env.agency)
        s["base_currency"].append(env.base_currency)
        s["total_floating_balance"].append(env.total_floating_balance)
        s["line_count"].append(len(env.lines))
        ln = self.line
        for item in env.lines:
            self.line_row.append(row)
            ln["currency"].append(item.currency)
            ln["base_currency"].append(env.base_currency)
            ln["balance"].append(item.balance)
            ln["value_base"].append(item.value_base)
            ln["cash"].append(item.cash)

    def reject(self, row: int, error: str) -> None:
        self.rejected_row.append(row)
        self.rejected_error.append(error)


def _collect(bodies: list[str | None]) -> _Columns:
    cols = _Columns()
    for row, body in enumerate(bodies):
        if body is None:
            cols.reject(row, "body is missing (NULL)")
            continue
        try:
            envelope = parse_envelope(body)
        except InvalidResponse as exc:
            cols.reject(row, str(exc))
            continue
        cols.extra.update(envelope.extra_fields)
        reason = _rejection(envelope)
        if reason is None:
            cols.add(row, envelope)
        else:
            cols.reject(row, reason)
    return cols


def _snapshots(raw: pl.DataFrame, cols: _Columns) -> pl.DataFrame:
    parsed = pl.DataFrame(
        cols.snap,
        schema={**{n: SNAPSHOT_SCHEMA[n] for n in cols.snap}, "total_floating_balance": pl.String},
    )
    keys = raw.select("_row", *_KEY, "observed_at", "raw_id")[cols.snap_row]
    return (
        pl.concat([keys, parsed], how="horizontal")
        .with_columns(
            pl.col("raw_id").alias("snapshot_id"),
            pl.col("total_floating_balance").cast(_VALUE),
            (pl.col("response_code") != _OK).alias("is_restricted"),
        )
        .select("_row", *SNAPSHOT_SCHEMA.names())
    )


def _lines(raw: pl.DataFrame, cols: _Columns) -> pl.DataFrame:
    parsed = pl.DataFrame(cols.line, schema=dict.fromkeys(cols.line, pl.String)).with_columns(
        pl.col("balance", "cash").cast(_BALANCE), pl.col("value_base").cast(_VALUE)
    )
    keys = raw.select("_row", *_KEY, "observed_at", pl.col("raw_id").alias("snapshot_id"))
    keys = keys[cols.line_row]
    return (
        pl.concat([keys, parsed], how="horizontal")
        .with_columns(locked("balance", "cash"), implied_rate("value_base", "balance"))
        .select("_row", *LINE_SCHEMA.names())
    )


def _checked_raw(raw: pl.DataFrame) -> pl.DataFrame:
    missing = [name for name in RAW_SCHEMA if name not in raw.columns]
    if missing:
        raise ValueError(f"raw responses frame lacks column(s) {missing}; expected {RAW_SCHEMA}")
    return raw.select(RAW_SCHEMA.names()).cast(dict(RAW_SCHEMA))


def normalize_raw(raw: pl.DataFrame) -> NormalizedBatch:
    """Parse raw response bodies into snapshot and line frames of the data contract.

    Bad bodies never raise: they land in `rejected` with a one-line reason. Only balance envelopes
    (ResponseCode 0 with Data, or ResponseCode 1 with or without Data) become snapshots; when
    several arrive for one (client_number, slot_start) the earliest `observed_at` (then smallest
    `raw_id`) wins and the others are rejected as duplicates.

    Args:
        raw: rows of RAW_SCHEMA (`raw_id`, `client_number`, `slot_start`, `observed_at`, `body`).

    Returns:
        A NormalizedBatch whose frames follow SNAPSHOT_SCHEMA, LINE_SCHEMA and REJECTED_SCHEMA.
    """
    raw = _checked_raw(raw).with_row_index("_row")
    cols = _collect(raw["body"].to_list())

    parse_rejects = raw.select(*REJECTED_SCHEMA.names()[:-1])[cols.rejected_row].with_columns(
        error=pl.Series(cols.rejected_error, dtype=pl.String)
    )
    # A snapshot without its natural key cannot be stored; among several for one key the
    # earliest answer wins, so a re-polled slot never replaces what was first observed.
    no_key = pl.any_horizontal(pl.col(_KEY).is_null())
    snapshots = (
        _snapshots(raw, cols)
        .sort([*_KEY, "observed_at", "raw_id"], nulls_last=True)
        .with_columns(_no_key=no_key, _lose=no_key | ~pl.struct(_KEY).is_first_distinct())
    )
    kept = snapshots.filter(~pl.col("_lose"))
    losers = snapshots.filter(pl.col("_lose")).select(
        *REJECTED_SCHEMA.names()[:-1],
        error=pl.when(pl.col("_no_key"))
        .then(pl.lit("raw row has no client_number or slot_start"))
        .otherwise(pl.lit(DUPLICATE_SNAPSHOT)),
    )
    lines = _lines(raw, cols).filter(pl.col("_row").is_in(kept["_row"].implode()))
    return NormalizedBatch(
        snapshots=kept.select(SNAPSHOT_SCHEMA.names()).sort(_KEY),
        lines=lines.select(LINE_SCHEMA.names()).sort([*_KEY, "currency"]),
        rejected=pl.concat([parse_rejects, losers]).sort([*_KEY, "raw_id"], nulls_last=True),
        extra_fields=dict(sorted(cols.extra.items())),
    )
