"""The fast route: a grammar gate on the raw text, then DuckDB's typed `from_json` for a batch.

DuckDB's JSON reader with DECIMAL(38,8)/(38,2) fields is exact (money never passes through a
float) and ~10x faster than the strict Python parser, but it is lenient where the strict parser
is not (measured, ARCHITECTURE.md): it silently ROUNDS 0.123456789 into DECIMAL(38,8), keeps
the first of two duplicate keys, drops undeclared fields (`Value_EUR` when `Value_ILS` is
declared), accepts trailing commas and NaN, and coerces 0.5 or "1.7" or true into an INTEGER.

So a body takes this route only when its raw text matches `GRAMMAR`: a regular language that
is a subset of what the strict parser accepts *unchanged* (its canonical, common shape):

- the documented fields in the documented order, each at most once (no duplicate can exist),
  ResponseCode 0 or 1 (the only envelopes that become snapshots), nothing unknown (schema drift
  is counted by the strict parser);
- strings without escapes or control characters (their text is their value: no lone
  surrogates, no quote inside a string, so every `"name":` in the text is a key);
- money in plain notation with at most 8 (Balance, Cash) or 2 (Value_, Total_) decimals and
  at most 30 integer digits, bare or quoted (legacy typing); integers of at most 9 digits;
- a base currency `[A-Z]{3,5}` in every Value_/Total_ key.

What the grammar cannot express is checked after parsing and sent back to the strict parser:
mixed base currencies, a currency listed twice, ResponseCode 0 without Data. Anything else
(a BOM, exponents, extra decimals, escapes, unknown fields, other orders, error envelopes,
truncation) never enters this route. The strict parser stays the referee: a property test
asserts both routes give the same snapshots, lines and rejections.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import duckdb
import polars as pl

from pipeline.normalize.schema import PARSED_LINE_SCHEMA, PARSED_SNAPSHOT_SCHEMA, ROW, VALUE

MONEY_TYPE, VALUE_TYPE = "DECIMAL(38,8)", "DECIMAL(38,2)"
_WS = r"[ \t\n\r]*"  # JSON's four whitespace characters (not Unicode's \s)
_BASE = r"[A-Z]{3,5}"


def _amount(scale: int) -> str:
    """Plain decimal text that DECIMAL(38, scale) holds exactly: parse.py's canonical form."""
    plain = rf"-?(?:0|[1-9][0-9]{{0,29}})(?:\.[0-9]{{1,{scale}}})?"
    return rf'(?:{plain}|"{plain}")'


_CODE = r'(?:[01]|"0{0,17}[01]")'  # 0 or 1, or legacy zero-padded text ("000", "001")
_INT = r'(?:null|-?(?:0|[1-9][0-9]{0,8})|"-?[0-9]{1,9}")'  # 9 digits always fit Int32
_TEXT = r'(?:null|"[^"\\\x00-\x1f]*")'  # no escapes: the text is the value
_CURRENCY = r'"[0-9A-Za-z_.\-]{1,5}"'


def _key(name: str) -> str:
    return rf'{_WS}"{name}"{_WS}:{_WS}'


_LINE = (
    rf"\{{{_key('Currency')}{_CURRENCY}{_WS},{_key('Balance')}{_amount(8)}{_WS},"
    rf"{_key(f'Value_{_BASE}')}{_amount(2)}{_WS},{_key('Cash')}{_amount(8)}{_WS}\}}"
)
_DATA = rf"(?:null|\[{_WS}(?:{_LINE}(?:{_WS},{_WS}{_LINE})*)?{_WS}\])"
_OPTIONAL_FIELDS = (
    ("ResponseMsgEng", _TEXT),
    ("ERP_Account_Status", _INT),
    ("ERP_Account_Status_Text", _TEXT),
    ("Web_Account_Status", _INT),
    ("Web_Account_Status_Text", _TEXT),
    ("Agency", _INT),
    ("Data", _DATA),
    (f"Total_Floating_Balance_{_BASE}", rf"(?:null|{_amount(2)})"),
)
GRAMMAR = (
    rf"\A{_WS}\{{{_key('ResponseCode')}{_CODE}"
    + "".join(rf"(?:{_WS},{_key(name)}{value})?" for name, value in _OPTIONAL_FIELDS)
    + rf"{_WS}\}}{_WS}\z"
)
# In a body the grammar accepted, a quoted name followed by ':' can only be a key.
_BASE_KEY = rf'"(?:Value|Total_Floating_Balance)_({_BASE})"{_WS}:'
# Bodies whose bases are read from the text to declare them (the rest are caught if new).
_BASE_SAMPLE = 256
_MIN_SLICE = 4_096  # bodies per thread below which threads cost more than they save

_TEXT_FIELDS = ("ResponseMsgEng", "ERP_Account_Status_Text", "Web_Account_Status_Text")
_INT_FIELDS = ("ResponseCode", "ERP_Account_Status", "Web_Account_Status", "Agency")


@dataclass(frozen=True)
class FastParsed:
    snapshots: pl.DataFrame  # PARSED_SNAPSHOT_SCHEMA
    lines: pl.DataFrame  # PARSED_LINE_SCHEMA
    strict_rows: list[int]  # bodies for the strict parser: not in the grammar, or flagged


def structure(bases: list[str]) -> str:
    """The `from_json` structure declaring every base currency in `bases`.

    A typed struct silently drops undeclared fields, so the batch's bases are declared; a body
    with another base comes back without its value or total and is parsed again (or flagged).
    """
    line = {"Currency": "VARCHAR", "Balance": MONEY_TYPE}
    line |= {f"Value_{base}": VALUE_TYPE for base in bases} | {"Cash": MONEY_TYPE}
    top: dict[str, object] = {name: "INTEGER" for name in _INT_FIELDS}
    top |= {name: "VARCHAR" for name in _TEXT_FIELDS} | {"Data": [line]}
    top |= {f"Total_Floating_Balance_{base}": VALUE_TYPE for base in bases}
    return json.dumps(top)


@cache
def _sql(name: str) -> str:
    # sql/ is data shipped in the package (pipeline/sql links to it); normalize sits below
    # store in the layering, so it reads its one statement itself.
    return (files("pipeline") / "sql" / "normalize" / f"{name}.sql").read_text(encoding="utf-8")


_engine: tuple[int, duckdb.DuckDBPyConnection] | None = None
_engine_lock = threading.Lock()


def _cursor() -> duckdb.DuckDBPyConnection:
    """A new connection to this process's in-memory DuckDB (no file, no I/O).

    Opening an in-memory database costs ~20-40 ms, a cursor ~1 ms: with batches of 10k bodies
    that was a tenth of the route. A cursor per call keeps registered frames private to the
    call (and to its thread); a process forked after the first call gets its own database.
    """
    global _engine
    with _engine_lock:
        if _engine is None or _engine[0] != os.getpid():
            _engine = (os.getpid(), duckdb.connect(":memory:"))
        return _engine[1].cursor()


def _from_json(gated: pl.DataFrame, bases: list[str]) -> pl.DataFrame:
    """One row per gated body: `_row`, `has_total_key` and the document's fields."""
    has_total_key = pl.col("body").str.contains('"Total_Floating_Balance_', literal=True)
    con = _cursor()
    try:
        frame = gated.select("_row", has_total_key.alias("has_total_key"), "body")
        # string_view: DuckDB reads polars' strings in place (large_string would copy them).
        con.register("fast_bodies", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        # con.sql(...).to_arrow_table() hands the rows over without an extra copy.
        query = con.sql(_sql("fast_envelopes"), params={"structure": structure(bases)})
        table = query.to_arrow_table()
    finally:
        con.close()
    parsed = pl.from_arrow(table)
    assert isinstance(parsed, pl.DataFrame)
    return parsed.unnest("doc")


def _bases(bodies: pl.DataFrame) -> list[str]:
    found = bodies.select(pl.col("body").str.extract_all(_BASE_KEY).explode().drop_nulls())
    keys = found["body"].unique().to_list()
    return sorted({key.split('"')[1].rsplit("_", 1)[1] for key in keys})


def _which(columns: dict[str, str]) -> pl.Expr:
    """The label of the first non-null column (a base currency), or null."""
    if not columns:
        return pl.lit(None, pl.String)
    return pl.coalesce(
        pl.when(pl.col(name).is_not_null()).then(pl.lit(label)) for name, label in columns.items()
    )


@dataclass(frozen=True)
class _Round:
    snapshots: pl.DataFrame
    lines: pl.DataFrame
    flagged: list[int]  # for the strict parser
    undeclared: list[int]  # a base was not declared: parse again with it


def _round(gated: pl.DataFrame, bases: list[str]) -> _Round:
    docs = _from_json(gated, bases)
    totals = {f"Total_Floating_Balance_{b}": b for b in bases}
    values = {f"Value_{b}": b for b in bases}
    snapshots = docs.select(
        pl.col("_row").cast(ROW),
        pl.col("ResponseCode").cast(pl.Int32).alias("response_code"),
        pl.col("ResponseMsgEng").alias("response_message"),
        pl.col("ERP_Account_Status").cast(pl.Int32).alias("erp_account_status"),
        pl.col("ERP_Account_Status_Text").alias("erp_account_status_text"),
        pl.col("Web_Account_Status").cast(pl.Int32).alias("web_account_status"),
        pl.col("Web_Account_Status_Text").alias("web_account_status_text"),
        pl.col("Agency").cast(pl.Int32).alias("agency"),
        _which(totals).alias("_total_base"),
        pl.coalesce([pl.col(t) for t in totals] or [pl.lit(None, VALUE)])
        .cast(VALUE)
        .alias("total_floating_balance"),
        pl.col("Data").list.len().fill_null(0).cast(pl.Int32).alias("line_count"),
        "has_total_key",
        # The struct keeps both lines of a currency listed twice; the strict parser rejects it.
        (
            pl.col("Data").list.eval(pl.element().struct.field("Currency")).list.n_unique()
            < pl.col("Data").list.len()
        ).alias("currency_twice"),
        _no_data=pl.col("Data").is_null(),
    )
    lines = (
        docs.select(pl.col("_row").cast(ROW), "Data")
        .explode("Data")
        .drop_nulls("Data")  # an empty Data explodes to one null
        .unnest("Data")
        .select(
            "_row",
            pl.col("Currency").alias("currency"),
            pl.col("Balance").alias("balance"),
            pl.coalesce([pl.col(v) for v in values] or [pl.lit(None, VALUE)])
            .cast(VALUE)
            .alias("value_base"),
            pl.col("Cash").alias("cash"),
            _which(values).alias("_line_base"),
        )
    )
    # A null total under a Total_ key: its base was not declared (or the value is JSON null,
    # which the second round leaves to the strict parser); a line without a value: likewise.
    undeclared = pl.concat(
        [
            snapshots.filter(pl.col("has_total_key") & pl.col("_total_base").is_null())["_row"],
            lines.filter(pl.col("_line_base").is_null())["_row"],
        ]
    ).unique()
    flagged = pl.concat(
        [
            snapshots.filter(
                pl.col("currency_twice") | (pl.col("_no_data") & (pl.col("response_code") == 0))
            )["_row"],
            # from_json turns a number it cannot hold (30 integer digits at the type's edge,
            # measured) into NULL without a word: the strict parser decides those bodies.
            lines.filter(pl.col("balance").is_null() | pl.col("cash").is_null())["_row"],
        ]
    )
    if len(bases) == 1:
        # One base declared: every found total and value has it, so nothing is mixed.
        body_base = pl.when(pl.col("has_total_key") | (pl.col("line_count") > 0)).then(
            pl.lit(bases[0])
        )
        snapshots = snapshots.with_columns(body_base.alias("base_currency"))
    else:
        per_body = lines.group_by("_row").agg(
            pl.col("_line_base").first().alias("_first_base"),
            pl.col("_line_base").n_unique().alias("_line_bases"),
        )
        snapshots = snapshots.join(per_body, on="_row", how="left").with_columns(
            pl.coalesce("_total_base", "_first_base").alias("base_currency")
        )
        mixed = (pl.col("_line_bases") > 1) | (
            pl.col("_total_base").is_not_null()
            & pl.col("_first_base").is_not_null()
            & (pl.col("_first_base") != pl.col("_total_base"))
        )
        flagged = pl.concat([flagged, snapshots.filter(mixed.fill_null(False))["_row"]])
    out = pl.concat([flagged, undeclared]).unique()
    if not out.is_empty():
        keep = ~pl.col("_row").is_in(out.implode())
        snapshots, lines = snapshots.filter(keep), lines.filter(keep)
    return _Round(
        snapshots.select(PARSED_SNAPSHOT_SCHEMA.names()),
        lines.select(PARSED_LINE_SCHEMA.names()),
        flagged.unique().to_list(),
        undeclared.filter(~undeclared.is_in(flagged.implode())).to_list(),
    )


def in_grammar(bodies: pl.Series) -> pl.Series:
    """Which bodies match GRAMMAR (null: no).

    One regex scan is single-threaded in polars and costs about a third of the route, so large
    batches are cut into one slice per core and scanned in threads (polars releases the GIL).
    """

    def scan(part: pl.Series) -> pl.Series:
        return part.str.contains(GRAMMAR).fill_null(False)

    workers = min(pl.thread_pool_size(), bodies.len() // _MIN_SLICE)
    if workers <= 1:
        return scan(bodies)
    step = -(-bodies.len() // workers)
    slices = [bodies.slice(offset, step) for offset in range(0, bodies.len(), step)]
    with ThreadPoolExecutor(len(slices)) as pool:
        return pl.Series(bodies.name, pl.concat(list(pool.map(scan, slices))), dtype=pl.Boolean)


def parse_fast(raw: pl.DataFrame) -> FastParsed:
    """Parse the bodies of `raw` (`_row`, `body`) that the grammar accepts.

    Returns:
        Their snapshots and lines, and the rows left for the strict parser.
    """
    marked = raw.select("_row", "body").with_columns(_fast=in_grammar(raw["body"]))
    strict_rows = marked.filter(~pl.col("_fast"))["_row"].to_list()
    gated = marked.filter(pl.col("_fast")).select("_row", "body")
    snapshots = [pl.DataFrame(schema=PARSED_SNAPSHOT_SCHEMA)]
    lines = [pl.DataFrame(schema=PARSED_LINE_SCHEMA)]
    for attempt in range(2):
        if gated.is_empty():
            break
        # First from a sample (reading every body's keys costs as much as the gate), then
        # from exactly the bodies that brought a base the sample did not show.
        sample = gated.gather_every(max(1, gated.height // _BASE_SAMPLE)) if attempt == 0 else gated
        found = _round(gated, _bases(sample))
        snapshots.append(found.snapshots)
        lines.append(found.lines)
        strict_rows += found.flagged
        retry = pl.Series(found.undeclared, dtype=ROW).implode()
        gated = gated.filter(pl.col("_row").is_in(retry))
    strict_rows += gated["_row"].to_list()
    return FastParsed(pl.concat(snapshots), pl.concat(lines), sorted(strict_rows))


# The probe the fast route must pass before it may be used: a number a float64 cannot hold,
# through `from_json` into DECIMAL(38,8). DuckDB 2.0 parses it exactly; 1.5.5 (the version the
# DuckLake extensions need) goes through a double and returns …12345344.
_PROBE_TEXT = "150000000000.12345678"


@cache
def from_json_is_exact() -> bool:
    """Whether this DuckDB's typed `from_json` keeps DECIMAL(38,8) exact (measured, once)."""
    con = duckdb.connect()
    try:
        row = con.execute(
            'select (from_json($doc, \'{"a": "DECIMAL(38,8)"}\')).a::varchar',
            {"doc": f'{{"a": {_PROBE_TEXT}}}'},
        ).fetchone()
    finally:
        con.close()
    return row is not None and row[0] == _PROBE_TEXT
