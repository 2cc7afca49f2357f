"""Property tests of the normalizer: exact numbers in, exact numbers out; nothing ever raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Context, Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipeline.normalize import RAW_SCHEMA, normalize_raw, normalize_raw_strict

SLOT = datetime(2026, 11, 1, 12, tzinfo=UTC)
EXACT = Context(prec=80)  # the default 28 digits would round the expected value, not the code
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def decimal_text(places: int, max_integer_digits: int = 20) -> st.SearchStrategy[str]:
    """Plain decimal text with at most `places` decimals, e.g. -150000000000.12345678."""
    integer = st.integers(min_value=0, max_value=10**max_integer_digits - 1)
    fraction = st.integers(min_value=0, max_value=places).flatmap(
        lambda n: st.just("") if n == 0 else st.text("0123456789", min_size=n, max_size=n)
    )
    sign = st.sampled_from(["", "-"])
    return st.builds(lambda s, i, f: f"{s}{i}" + (f".{f}" if f else ""), sign, integer, fraction)


currency = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=5)
line = st.fixed_dictionaries(
    {"balance": decimal_text(8), "value": decimal_text(2), "cash": decimal_text(8)}
)


@st.composite
def envelopes(draw: st.DrawFn) -> tuple[str, str, dict[str, dict[str, str]], str]:
    base = draw(st.sampled_from(["ILS", "USD", "EUR"]))
    currencies = draw(st.lists(currency, min_size=0, max_size=6, unique=True))
    lines = {c: draw(line) for c in currencies}
    total = draw(decimal_text(2))
    legacy = draw(st.booleans())  # older generations quote codes and numbers

    def number(text: str) -> str:
        return json.dumps(text) if legacy else text

    data = ", ".join(
        f'{{"Currency": {json.dumps(c)}, "Balance": {number(v["balance"])}, '
        f'"Value_{base}": {number(v["value"])}, "Cash": {number(v["cash"])}}}'
        for c, v in lines.items()
    )
    code = '"000"' if legacy else "0"
    body = (
        f'{{"ResponseCode": {code}, "ResponseMsgEng": "ok", "ERP_Account_Status": 5, '
        f'"Web_Account_Status": 2, "Agency": 0, "Data": [{data}], '
        f'"Total_Floating_Balance_{base}": {number(total)}}}'
    )
    return body, base, lines, total


def raw_frame(bodies: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "raw_id": [f"r{i}" for i in range(len(bodies))],
            "client_number": [500601 + i for i in range(len(bodies))],
            "slot_start": [SLOT] * len(bodies),
            "observed_at": [SLOT] * len(bodies),
            "body": bodies,
        },
        schema=RAW_SCHEMA,
    )


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(envelopes())
def test_any_valid_response_normalizes_to_exactly_its_numbers(envelope) -> None:
    body, base, lines, total = envelope
    batch = normalize_raw(raw_frame([body]))
    assert batch.rejected.is_empty(), batch.rejected["error"].to_list()
    snapshot = batch.snapshots.row(0, named=True)
    assert snapshot["base_currency"] == base
    assert snapshot["total_floating_balance"] == Decimal(total)
    assert snapshot["line_count"] == len(lines)
    got = {row["currency"]: row for row in batch.lines.iter_rows(named=True)}
    assert set(got) == set(lines)
    for name, expected in lines.items():
        row = got[name]
        assert row["balance"] == Decimal(expected["balance"])
        assert row["value_base"] == Decimal(expected["value"])
        assert row["cash"] == Decimal(expected["cash"])
        locked = EXACT.subtract(Decimal(expected["balance"]), Decimal(expected["cash"]))
        assert row["locked"] == locked


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.one_of(
            st.text(max_size=300),
            st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")),
            envelopes().flatmap(lambda e: st.integers(0, len(e[0])).map(lambda cut: e[0][:cut])),
            envelopes().map(lambda e: e[0].replace("0", "NaN", 1)),
        ),
        min_size=1,
        max_size=5,
    )
)
@pytest.mark.slow
def test_arbitrary_text_never_raises_and_every_row_is_accounted_for(bodies: list[str]) -> None:
    bodies = [b.encode("utf-8", "replace").decode("utf-8") for b in bodies]
    batch = normalize_raw(raw_frame(bodies))
    assert batch.snapshots.height + batch.rejected.height == len(bodies)
    assert batch.rejected["error"].null_count() == 0


# --- the edges of DECIMAL(38,8) / DECIMAL(38,2) ----------------------------------------------

LIMIT_38_8 = Decimal(10) ** 30  # DECIMAL(38,8) holds |x| < 10^30
EDGE_8 = [
    "999999999999999999999999999999.99999999",
    "-999999999999999999999999999999.99999999",
    "500000000000000000000000000000",
    "-500000000000000000000000000000.00000001",
    "499999999999999999999999999999.99999999",
    "0.00000001",
    "-0.00000001",
    "0",
]
EDGE_2 = ["999999999999999999999999999999.99", "-999999999999999999999999999999.99", "0.01", "0"]
edge_money = st.one_of(st.sampled_from(EDGE_8), decimal_text(8, 30))
edge_value = st.one_of(st.sampled_from(EDGE_2), decimal_text(2, 30))


@st.composite
def edge_bodies(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """A valid body whose amounts sit at or near the limits; returns (body, [(balance, cash)])."""
    currencies = draw(st.lists(currency, min_size=1, max_size=3, unique=True))
    amounts = [(draw(edge_money), draw(edge_value), draw(edge_money)) for _ in currencies]
    data = ", ".join(
        f'{{"Currency": "{c}", "Balance": {b}, "Value_ILS": {v}, "Cash": {k}}}'
        for c, (b, v, k) in zip(currencies, amounts, strict=True)
    )
    total = draw(edge_value)
    body = f'{{"ResponseCode": 0, "Data": [{data}], "Total_Floating_Balance_ILS": {total}}}'
    return body, [(b, k) for b, _, k in amounts]


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(st.lists(edge_bodies(), min_size=1, max_size=5))
def test_money_at_the_decimal_edges_never_fails_the_batch(
    drawn: list[tuple[str, list[tuple[str, str]]]],
) -> None:
    raw = raw_frame([body for body, _ in drawn])
    batch = normalize_raw(raw)
    strict = normalize_raw_strict(raw)
    assert_frame_equal(batch.snapshots, strict.snapshots)
    assert_frame_equal(batch.lines, strict.lines)
    assert_frame_equal(batch.rejected, strict.rejected)

    rejected = dict(zip(batch.rejected["raw_id"], batch.rejected["error"], strict=True))
    for index, (_, pairs) in enumerate(drawn):
        raw_id = f"r{index}"
        differences = [EXACT.subtract(Decimal(b), Decimal(c)) for b, c in pairs]
        if any(d.copy_abs() >= LIMIT_38_8 for d in differences):
            assert "does not fit DECIMAL(38,8)" in rejected[raw_id]
            continue
        assert raw_id not in rejected
        lines = batch.lines.filter(pl.col("snapshot_id") == raw_id)
        assert sorted(lines["locked"].to_list()) == sorted(differences)
