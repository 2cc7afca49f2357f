"""The fast route: a grammar gate on the raw text, then the values cut out of that text.

The strict parser (parse.py) reads one body at a time in Python: exact, and slow. Every
reader that parses JSON in bulk loses money or accepts more than the strict parser does
(measured, ARCHITECTURE.md): polars' JSON readers and, on the pinned DuckDB 1.5.5, even a
DECIMAL-typed `from_json` go through a double (150000000000.12345678 -> ...12345344); DuckDB
2.0's exact `from_json` still rounds 0.123456789 into DECIMAL(38,8), keeps the first of two
duplicate keys, drops undeclared fields and coerces 0.5 or "1.7" or true into an INTEGER.

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

In such a body every value can be cut out of the text by its key with a short pattern, and the
money text is cast to Decimal by the same polars cast the strict route uses: nothing passes
through a float, whatever the DuckDB version. What the grammar cannot express is checked after
extraction and sent back to the strict parser: mixed base currencies, a currency listed twice,
ResponseCode 0 without Data. Anything else (a BOM, exponents, extra decimals, escapes, unknown
fields, other orders, error envelopes, truncation) never enters this route. The strict parser
stays the referee: a property test asserts both routes give the same snapshots, lines and
rejections.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import duckdb
import polars as pl

from pipeline.normalize.schema import (
    BALANCE,
    PARSED_LINE_SCHEMA,
    PARSED_SNAPSHOT_SCHEMA,
    VALUE,
)

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
_MIN_SLICE = 4_096  # bodies per thread below which threads cost more than they save

# Money is cut out of the text of a body the grammar accepted. There, a quoted name followed by
# ':' is always a key, and every Data line holds Balance, Value_<BASE> and Cash in this order:
# so the amount tokens come in threes, one three per line, in the order of the lines.
_TOKEN_MONEY = r'"?-?[0-9][0-9.]*'  # the amount's text (after a legacy quote)
_TOTAL = rf'"Total_Floating_Balance_({_BASE})"{_WS}:{_WS}(null|{_TOKEN_MONEY})'
_AMOUNT_TOKEN = rf'"(?:Balance|Value_{_BASE}|Cash)"{_WS}:{_WS}{_TOKEN_MONEY}'
_AMOUNTS_PER_LINE = 3
_TOKEN_PREFIX = r'^[^:]*:[ \t\n\r]*"?'  # '"Balance": "' of an amount token


@dataclass(frozen=True)
class FastParsed:
    snapshots: pl.DataFrame  # PARSED_SNAPSHOT_SCHEMA
    lines: pl.DataFrame  # PARSED_LINE_SCHEMA
    strict_rows: list[int]  # bodies for the strict parser: not in the grammar, or flagged


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


@cache
def _sql(name: str) -> str:
    # sql/ is data shipped in the package (pipeline/sql links to it); normalize sits below
    # store in the layering, so it reads its one statement itself.
    return (files("pipeline") / "sql" / "normalize" / f"{name}.sql").read_text(encoding="utf-8")


def _documents(gated: pl.DataFrame) -> pl.DataFrame:
    """Everything but money, parsed by DuckDB's JSON reader (fast, and exact for these: texts
    without escapes, integers of at most 9 digits, currency codes). One row per body, by _row."""
    con = _cursor()
    try:
        # string_view: DuckDB reads polars' strings in place (large_string would copy them).
        con.register("fast_bodies", gated.to_arrow(compat_level=pl.CompatLevel.newest()))
        # con.sql(...).to_arrow_table() hands the rows over without an extra copy.
        table = con.sql(_sql("fast_envelopes")).to_arrow_table()
    finally:
        con.close()
    documents = pl.from_arrow(table)
    assert isinstance(documents, pl.DataFrame)
    return documents


def _money(token: pl.Expr, dtype: pl.Decimal) -> pl.Expr:
    """An amount's exact text cast to Decimal: the strict route's own cast (never a float)."""
    return pl.when(token != "null").then(token.str.strip_chars_start('"')).cast(dtype)


def _amounts(gated: pl.DataFrame) -> pl.DataFrame:
    """The money of each body, cut out of its text: the total (and the base its key names),
    and the amount tokens of its lines. One row per body, by _row."""
    total = pl.col("body").str.extract_groups(_TOTAL)
    return gated.select(
        "_row",
        total.struct.field("1").alias("_total_base"),
        _money(total.struct.field("2"), VALUE).alias("total_floating_balance"),
        pl.col("body").str.extract_all(_AMOUNT_TOKEN).alias("_amounts"),
    )


def _envelopes(gated: pl.DataFrame) -> pl.DataFrame:
    """One row per body: its top-level fields, Data's currencies and amount tokens as lists.

    DuckDB and polars each take their part at the same time (both release the GIL)."""
    with ThreadPoolExecutor(1) as pool:
        documents = pool.submit(_documents, gated)
        amounts = _amounts(gated)
        docs = documents.result()
    if not docs["_row"].equals(amounts["_row"]):  # DuckDB keeps insertion order by default
        docs = docs.sort("_row")
        if not docs["_row"].equals(amounts["_row"]):
            raise ValueError("parsed documents and amounts are not aligned")
    return pl.concat([docs, amounts.drop("_row")], how="horizontal")


def _lines(envelopes: pl.DataFrame) -> pl.DataFrame:
    """One row per Data line, in body order, with its base currency (from its Value_ key)."""
    currencies = envelopes.select("_row", "_currencies").explode("_currencies").drop_nulls()
    amounts = envelopes.select(pl.col("_amounts").explode()).drop_nulls()["_amounts"]
    if amounts.len() != _AMOUNTS_PER_LINE * currencies.height:  # the grammar rules it out
        raise ValueError("amount tokens do not come in threes per Data line")
    texts = amounts.str.replace(_TOKEN_PREFIX, "")
    value_keys = amounts.gather_every(_AMOUNTS_PER_LINE, 1)
    return currencies.select(
        "_row",
        pl.col("_currencies").alias("currency"),
        balance=texts.gather_every(_AMOUNTS_PER_LINE, 0).cast(BALANCE),
        value_base=texts.gather_every(_AMOUNTS_PER_LINE, 1).cast(VALUE),
        cash=texts.gather_every(_AMOUNTS_PER_LINE, 2).cast(BALANCE),
        _line_base=value_keys.str.extract(rf'^"Value_({_BASE})"', 1),
    )


def parse_fast(raw: pl.DataFrame) -> FastParsed:
    """Parse the bodies of `raw` (`_row`, `body`) that the grammar accepts.

    Returns:
        Their snapshots and lines, and the rows left for the strict parser.
    """
    marked = raw.select("_row", "body").with_columns(_fast=in_grammar(raw["body"]))
    strict_rows = marked.filter(~pl.col("_fast"))["_row"].to_list()
    gated = marked.filter(pl.col("_fast")).select("_row", "body")
    envelopes = _envelopes(gated)
    # Within a body, lines are contiguous and in order (until a join, which may reorder): a
    # line whose base differs from the one before it, or from the total's, mixes bases, and
    # the strict parser words that rejection.
    same_body = pl.col("_row") == pl.col("_row").shift()
    lines = _lines(envelopes).with_columns(
        _first=~same_body.fill_null(False),
        _differs=(same_body & (pl.col("_line_base") != pl.col("_line_base").shift())).fill_null(
            False
        ),
    )
    first_lines = lines.filter("_first").select("_row", _first_base="_line_base")
    snapshots = envelopes.join(first_lines, on="_row", how="left", maintain_order="left")
    snapshots = snapshots.with_columns(
        pl.coalesce("_total_base", "_first_base").alias("base_currency"),
        pl.col("_currencies").list.len().fill_null(0).cast(pl.Int32).alias("line_count"),
    )
    totals = snapshots.select("_row", "_total_base")
    lines = lines.join(totals, on="_row", how="left", maintain_order="left")
    mixed = pl.col("_differs") | (pl.col("_line_base") != pl.col("_total_base")).fill_null(False)
    twice = pl.struct("_row", "currency").is_duplicated()
    no_data = ~pl.col("_data") & (pl.col("response_code") == 0)
    flagged = pl.concat(
        [
            lines.filter(mixed | twice)["_row"],
            snapshots.filter(no_data)["_row"],
        ]
    ).unique()
    if not flagged.is_empty():
        keep = ~pl.col("_row").is_in(flagged.implode())
        snapshots, lines = snapshots.filter(keep), lines.filter(keep)
    return FastParsed(
        snapshots.select(PARSED_SNAPSHOT_SCHEMA.names()),
        lines.select(PARSED_LINE_SCHEMA.names()),
        sorted([*strict_rows, *flagged.to_list()]),
    )
