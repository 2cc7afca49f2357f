"""Normalizer: raw bodies -> exact snapshot/line frames (pure, no I/O beyond the seed file)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.normalize import (
    DUPLICATE_SNAPSHOT,
    LINE_SCHEMA,
    RAW_SCHEMA,
    REJECTED_SCHEMA,
    SNAPSHOT_SCHEMA,
    InvalidResponse,
    fit,
    normalize_raw,
    parse_envelope,
)
from pipeline.normalize.schema import PARSED_LINE_SCHEMA, PARSED_SNAPSHOT_SCHEMA
from tests.seed_example import SEED_OUTPUT, seed_body

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_7287e33cf4822302.txt"
SLOT = datetime(2024, 5, 1, 10, tzinfo=UTC)
HUGE = "12345678901234567890.12345678"  # 30 significant digits: float64 keeps ~16


def envelope(lines: list[str], *, code: str = "0", base: str = "ILS", extra: str = "") -> str:
    """A balance body from hand-written line objects (raw JSON text, so numbers stay verbatim)."""
    return (
        f'{{"ResponseCode": {code}, "ResponseMsgEng": "Client account is OK", '
        f'"ERP_Account_Status": 5, "Web_Account_Status": 2, "Agency": 0, {extra}'
        f'"Data": [{", ".join(lines)}], "Total_Floating_Balance_{base}": 0}}'
    )


def line(
    currency: str, balance: str, value: str, cash: str | None = None, base: str = "ILS"
) -> str:
    return (
        f'{{"Currency": "{currency}", "Balance": {balance}, "Value_{base}": {value}, '
        f'"Cash": {cash if cash is not None else balance}}}'
    )


def raw_frame(*bodies: str | None, client_number: int = 500608) -> pl.DataFrame:
    n = len(bodies)
    return pl.DataFrame(
        {
            "raw_id": [f"raw-{i:03d}" for i in range(n)],
            "client_number": [client_number + i for i in range(n)],
            "slot_start": [SLOT] * n,
            "observed_at": [SLOT + timedelta(seconds=5)] * n,
            "body": list(bodies),
        },
        schema=RAW_SCHEMA,
    )


def one_rejection(body: str | None) -> str:
    batch = normalize_raw(raw_frame(body))
    assert batch.snapshots.height == 0
    assert batch.lines.height == 0
    assert batch.rejected.height == 1
    return batch.rejected["error"][0]


# --- the seed ------------------------------------------------------------------------------


def test_seed_example_normalizes_to_its_figures() -> None:
    batch = normalize_raw(raw_frame(seed_body()))

    assert batch.rejected.height == 0
    assert batch.snapshots.schema == SNAPSHOT_SCHEMA
    assert batch.lines.schema == LINE_SCHEMA
    snap = batch.snapshots.row(0, named=True)
    assert snap["base_currency"] == "ILS"
    assert snap["total_floating_balance"] == Decimal("72888.65")
    assert (snap["erp_account_status"], snap["web_account_status"], snap["agency"]) == (5, 2, 0)
    assert snap["erp_account_status_text"] == "לקוח אמיתי"
    assert snap["web_account_status_text"] == "מאושר / פעיל"
    assert snap["line_count"] == 4
    assert snap["is_restricted"] is False
    assert snap["snapshot_id"] == snap["raw_id"] == "raw-000"

    lines = batch.lines
    assert lines["currency"].to_list() == ["BTC", "ETH", "ILS", "USD"]
    assert lines["value_base"].sum() == Decimal("72888.65") == snap["total_floating_balance"]
    by_ccy = {row["currency"]: row for row in lines.iter_rows(named=True)}
    assert by_ccy["BTC"]["balance"] == Decimal("0.10790961")
    assert by_ccy["BTC"]["implied_rate"] == pytest.approx(25133.8 / 0.10790961, rel=1e-12)
    assert by_ccy["ILS"]["locked"] == Decimal("2000.00")
    assert by_ccy["USD"]["locked"] == Decimal("0")
    assert set(lines["base_currency"]) == {"ILS"}


@pytest.mark.skipif(not SEED.exists(), reason="shared seed folder not checked out")
def test_seed_output_is_copied_verbatim() -> None:
    assert SEED_OUTPUT in SEED.read_text(encoding="utf-8")


def test_seed_parses_to_exact_text() -> None:
    env = parse_envelope(seed_body())
    assert env.response_code == 0
    assert env.has_balance_data
    assert (env.lines[0].currency, env.lines[0].balance, env.lines[0].value_base) == (
        "BTC",
        "0.10790961",
        "25133.8",
    )
    assert env.total_floating_balance == "72888.65"
    assert env.extra_fields == ()


# --- exactness -----------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["150000000000.12345678", "0.00000001", HUGE, "-0.00000001"])
def test_money_round_trips_exactly(amount: str) -> None:
    body = envelope([line("BTC", amount, "150000000000000.01", cash=amount)])
    batch = normalize_raw(raw_frame(body))

    row = batch.lines.row(0, named=True)
    assert row["balance"] == Decimal(amount)
    assert row["cash"] == Decimal(amount)
    assert row["value_base"] == Decimal("150000000000000.01")
    assert row["locked"] == Decimal(0)
    # Through float64 these would change: the check is only meaningful because they do.
    if amount != "-0.00000001" and amount != "0.00000001":
        assert Decimal(repr(float(amount))) != Decimal(amount)
    assert str(batch.lines["balance"].cast(pl.String)[0]).rstrip("0") == amount.rstrip("0")


def test_money_columns_never_go_through_float() -> None:
    # Two balances that are the same float64 must stay different Decimals.
    a, b = "12345678901234567890.12345678", "12345678901234567890.12345677"
    assert float(a) == float(b)
    batch = normalize_raw(raw_frame(envelope([line("BTC", a, "1.00"), line("ETH", b, "1.00")])))
    balances = batch.lines["balance"].to_list()
    assert balances == [Decimal(a), Decimal(b)]
    assert batch.lines["locked"].to_list() == [Decimal(0), Decimal(0)]
    total = pl.Series([a, b]).cast(pl.Decimal(38, 8)).sum()
    assert batch.lines["balance"].sum() == total == Decimal(a) + Decimal(b)


def test_exponent_form_is_accepted_when_exact() -> None:
    env = parse_envelope(envelope([line("BTC", "1.5e3", "25e-2", cash="1E-8")]))
    assert (env.lines[0].balance, env.lines[0].value_base, env.lines[0].cash) == (
        "1500.00000000",
        "0.25",
        "0.00000001",
    )


def test_more_than_8_decimals_is_rejected_not_rounded() -> None:
    error = one_rejection(envelope([line("BTC", "0.123456789", "1.00")]))
    assert "Balance has more than 8 decimals" in error
    assert "'0.123456789'" in error


def test_value_with_more_than_2_decimals_is_rejected() -> None:
    assert "more than 2 decimals" in one_rejection(envelope([line("BTC", "1", "25133.801")]))


def test_more_than_30_integer_digits_is_rejected() -> None:
    error = one_rejection(envelope([line("BTC", "1" * 31, "1.00")]))
    assert "more than 30 integer digits" in error


# --- shapes and typing ---------------------------------------------------------------------


def test_legacy_string_typing_is_accepted() -> None:
    body = (
        '{"ResponseCode": "000", "ResponseMsgEng": "Client account is OK", '
        '"ERP_Account_Status": "5", "Web_Account_Status": "02", "Agency": "0", '
        '"Data": [{"Currency": "USD", "Balance": "5000.00", "Value_USD": "5000.00", '
        '"Cash": "4500.00"}], "Total_Floating_Balance_USD": "5000.00"}'
    )
    batch = normalize_raw(raw_frame(body))
    snap = batch.snapshots.row(0, named=True)
    assert (snap["response_code"], snap["web_account_status"], snap["base_currency"]) == (
        0,
        2,
        "USD",
    )
    assert batch.lines.row(0, named=True)["locked"] == Decimal("500.00")


def test_value_usd_body_has_base_usd() -> None:
    body = envelope([line("BTC", "0.5", "30000.00", base="USD")], base="USD")
    batch = normalize_raw(raw_frame(body))
    assert batch.snapshots["base_currency"].to_list() == ["USD"]
    assert batch.lines["base_currency"].to_list() == ["USD"]


@pytest.mark.parametrize(
    "body",
    [
        envelope([line("BTC", "1", "2.00", base="ILS"), line("ETH", "1", "2.00", base="USD")]),
        envelope([line("BTC", "1", "2.00", base="ILS")], base="USD"),
    ],
    ids=["two-line-bases", "total-vs-value"],
)
def test_two_base_currencies_are_rejected(body: str) -> None:
    assert one_rejection(body) == "response mixes base currencies ILS and USD"


def test_duplicate_currency_is_rejected() -> None:
    error = one_rejection(envelope([line("BTC", "1", "2.00"), line("BTC", "3", "6.00")]))
    assert error == "currency 'BTC' is listed twice"


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_rejected(token: str) -> None:
    assert "not allowed" in one_rejection(envelope([line("BTC", token, "1.00")]))


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        None,
        "<html><body>502 Bad Gateway</body></html>",
        seed_body()[:200],  # truncated
        "[1, 2, 3]",
        '"just a string"',
        "\x00\xff garbage \u2028 ",
        "[" * 100_000,
        '{"ResponseMsgEng": "no code"}',
        '{"ResponseCode": 0.5}',
        '{"ResponseCode": 0, "Data": {"Currency": "BTC"}}',
        '{"ResponseCode": 0, "Data": [1, 2]}',
        '{"ResponseCode": 0, "Data": [{"Currency": "BTC", "Balance": 1, "Cash": 1}]}',
        '{"ResponseCode": 0, "Data": [{"Currency": "BTC", "Value_ILS": 1, "Cash": 1}]}',
        '{"ResponseCode": 0, "Data": [{"Currency": "", "Balance": 1, "Value_ILS": 1, "Cash": 1}]}',
        '{"ResponseCode": 0, "Data": [{"Currency": "TOOLONG", "Balance": 1, "Value_ILS": 1, '
        '"Cash": 1}]}',
        '{"ResponseCode": 0, "Data": [{"Currency": "BTC", "Balance": "1,000.00", "Value_ILS": 1, '
        '"Cash": 1}]}',
        '{"ResponseCode": 0, "ResponseCode": 0, "Data": []}',
        '{"ResponseCode": 99999999999, "Data": []}',
    ],
)
def test_bad_bodies_are_rejected_never_raised(body: str | None) -> None:
    error = one_rejection(body)
    assert error
    assert "\n" not in error
    assert len(error) < 200


def test_lone_surrogate_escape_is_rejected() -> None:
    # polars cannot hold such a string, so it must never reach a frame
    body = envelope(['{"Currency": "\\ud800", "Balance": 1, "Value_ILS": 1, "Cash": 1}'])
    assert one_rejection(body) == "Data[0].Currency is not valid Unicode text"


def test_parse_envelope_raises_invalid_response_with_short_quote() -> None:
    with pytest.raises(InvalidResponse, match=r"^body is not JSON .*starts '<html>x+'…$"):
        parse_envelope("<html>" + "x" * 10_000)
    assert issubclass(InvalidResponse, ValueError)


def test_negative_balance_with_negative_value_has_positive_rate() -> None:
    batch = normalize_raw(raw_frame(envelope([line("USD", "-1064.15", "-3192.44")])))
    row = batch.lines.row(0, named=True)
    assert row["balance"] == Decimal("-1064.15")
    assert row["implied_rate"] == pytest.approx(3192.44 / 1064.15, rel=1e-12)
    assert row["implied_rate"] > 0


def test_zero_balance_has_null_rate() -> None:
    batch = normalize_raw(raw_frame(envelope([line("USD", "0", "0.00", cash="-5")])))
    row = batch.lines.row(0, named=True)
    assert row["implied_rate"] is None
    assert row["locked"] == Decimal("5")


def test_restricted_with_data_is_a_restricted_snapshot() -> None:
    batch = normalize_raw(raw_frame(envelope([line("BTC", "1", "2.00")], code="1")))
    snap = batch.snapshots.row(0, named=True)
    assert (snap["response_code"], snap["is_restricted"], snap["line_count"]) == (1, True, 1)
    assert batch.lines.height == 1


def test_restricted_without_data_is_an_empty_restricted_snapshot() -> None:
    body = (
        '{"ResponseCode": "001", "ResponseMsgEng": "Restrictive status", "ERP_Account_Status": 6}'
    )
    batch = normalize_raw(raw_frame(body))
    snap = batch.snapshots.row(0, named=True)
    assert snap["is_restricted"] is True
    assert snap["line_count"] == 0
    assert snap["total_floating_balance"] is None
    assert snap["base_currency"] is None
    assert snap["erp_account_status"] == 6
    assert batch.lines.height == 0
    assert batch.rejected.height == 0


def test_empty_data_with_total_is_a_snapshot_with_base() -> None:
    batch = normalize_raw(
        raw_frame('{"ResponseCode": 0, "Data": [], "Total_Floating_Balance_ILS": 0}')
    )
    snap = batch.snapshots.row(0, named=True)
    assert (snap["line_count"], snap["base_currency"]) == (0, "ILS")
    assert snap["total_floating_balance"] == Decimal("0")
    assert parse_envelope('{"ResponseCode": 0, "Data": []}').base_currency is None


def test_error_envelope_is_rejected_with_its_message() -> None:
    body = '{"ResponseCode": 6, "ResponseMsgEng": "Wrong account credentials"}'
    env = parse_envelope(body)
    assert (env.response_code, env.has_balance_data) == (6, False)
    assert one_rejection(body) == (
        "API error envelope, ResponseCode 6: 'Wrong account credentials'"
    )


def test_ok_without_data_is_rejected() -> None:
    assert "without Data" in one_rejection('{"ResponseCode": 0, "ResponseMsgEng": "OK"}')


def test_extra_fields_are_reported_not_rejected() -> None:
    body = envelope(
        ['{"Currency": "BTC", "Balance": 1, "Value_ILS": 2, "Cash": 1, "Pending": 0}'],
        extra='"NewThing": {"a": 1}, ',
    )
    assert parse_envelope(body).extra_fields == ("Data.Pending", "NewThing")
    batch = normalize_raw(raw_frame(body, body))
    assert batch.snapshots.height == 2
    assert batch.extra_fields == {"Data.Pending": 2, "NewThing": 2}


def test_duplicate_snapshot_for_slot_keeps_the_earliest() -> None:
    first = envelope([line("BTC", "1", "2.00")])
    later = envelope([line("BTC", "9", "18.00"), line("ETH", "1", "1.00")])
    raw = pl.DataFrame(
        {
            "raw_id": ["b-later", "a-first", "c-tie"],
            "client_number": [7, 7, 7],
            "slot_start": [SLOT] * 3,
            "observed_at": [SLOT + timedelta(seconds=9), SLOT, SLOT],
            "body": [later, first, later],
        },
        schema=RAW_SCHEMA,
    )
    batch = normalize_raw(raw)
    assert batch.snapshots["raw_id"].to_list() == ["a-first"]
    assert batch.lines["balance"].to_list() == [Decimal(1)]
    assert batch.rejected.sort("raw_id").rows() == [
        ("b-later", 7, SLOT, DUPLICATE_SNAPSHOT),
        ("c-tie", 7, SLOT, DUPLICATE_SNAPSHOT),
    ]


def test_batch_is_sorted_and_typed_with_mixed_outcomes() -> None:
    raw = raw_frame(
        envelope([line("USD", "1", "3.00"), line("BTC", "1", "2.00")]),
        "not json",
        '{"ResponseCode": 6}',
        '{"ResponseCode": 1}',
    ).reverse()
    batch = normalize_raw(raw)
    assert batch.snapshots.schema == SNAPSHOT_SCHEMA
    assert batch.lines.schema == LINE_SCHEMA
    assert batch.rejected.schema == REJECTED_SCHEMA
    assert batch.snapshots["client_number"].to_list() == [500608, 500611]
    assert batch.lines["currency"].to_list() == ["BTC", "USD"]
    assert batch.rejected["client_number"].to_list() == [500609, 500610]


def test_empty_input_gives_empty_typed_frames() -> None:
    batch = normalize_raw(pl.DataFrame(schema=RAW_SCHEMA))
    assert batch.snapshots.schema == SNAPSHOT_SCHEMA
    assert batch.lines.schema == LINE_SCHEMA
    assert batch.rejected.schema == REJECTED_SCHEMA
    assert batch.snapshots.height == batch.lines.height == batch.rejected.height == 0


@pytest.mark.parametrize("key", ["Value_", "Value_ils", "Value_TOOLONG"])
def test_malformed_base_field_is_rejected(key: str) -> None:
    item = f'{{"Currency": "BTC", "Balance": 1, "{key}": 1, "Cash": 1}}'
    body = f'{{"ResponseCode": 0, "Data": [{item}]}}'
    assert one_rejection(body) == f"Data[0] has a malformed base-currency field '{key}'"


def test_trailing_zeros_beyond_scale_lose_nothing_and_are_accepted() -> None:
    env = parse_envelope(envelope([line("BTC", "1.1000000000", "2.000")]))
    assert (env.lines[0].balance, env.lines[0].value_base) == ("1.10000000", "2.00")


# --- a UTF-8 byte-order mark -----------------------------------------------------------------


def test_body_starting_with_a_byte_order_mark_is_accepted() -> None:
    plain, marked = seed_body(), "\ufeff" + seed_body()
    assert parse_envelope(marked) == parse_envelope(plain)
    with_mark, without = normalize_raw(raw_frame(marked)), normalize_raw(raw_frame(plain))
    assert with_mark.rejected.is_empty()
    assert_frame_equal(with_mark.snapshots, without.snapshots)
    assert_frame_equal(with_mark.lines, without.lines)


@pytest.mark.parametrize("body", ["\ufeff", "\ufeff  ", "\ufeff\ufeff{}", " \ufeff{}"])
def test_only_one_leading_byte_order_mark_is_skipped(body: str) -> None:
    error = one_rejection(body)
    assert error.startswith(("body is empty", "body is not JSON"))


# --- one bad body never blocks its batch -----------------------------------------------------

MAX_BALANCE = "999999999999999999999999999999.99999999"  # the largest DECIMAL(38,8)


def test_locked_overflow_rejects_that_body_alone() -> None:
    # Each amount fits DECIMAL(38,8); balance - cash (2 * 10^30) does not.
    bad = envelope([line("USD", "1", "3.00"), line("BTC", MAX_BALANCE, "1.00", "-" + MAX_BALANCE)])
    good = envelope([line("BTC", MAX_BALANCE, "1.00", "0")])
    batch = normalize_raw(raw_frame(good, bad, seed_body()))

    assert batch.snapshots["client_number"].to_list() == [500608, 500610]
    assert batch.rejected.rows() == [
        (
            "raw-001",
            500609,
            SLOT,
            "Data[1] (BTC) Balance - Cash does not fit DECIMAL(38,8) (locked funds would overflow)",
        )
    ]
    assert batch.lines.filter(pl.col("client_number") == 500608)["locked"].to_list() == [
        Decimal(MAX_BALANCE)
    ]


def test_locked_at_the_edge_of_decimal_38_8_is_kept() -> None:
    # 999...9.99999999 - (-0.00000000) fits exactly, and so does a difference of 10^30 - 10^-8.
    half = "500000000000000000000000000000.00000000"
    edge = "-499999999999999999999999999999.99999999"
    batch = normalize_raw(raw_frame(envelope([line("BTC", half, "1.00", edge)])))
    assert batch.rejected.is_empty()
    assert batch.lines["locked"].to_list() == [Decimal(MAX_BALANCE)]


def test_a_failure_nobody_foresaw_rejects_one_body(monkeypatch: pytest.MonkeyPatch) -> None:
    # A parser bug (here: injected) must reject the body that triggers it, not the batch.
    import pipeline.normalize.strict as strict

    real = strict.parse_envelope

    def buggy(body: str):  # type: ignore[no-untyped-def]
        if "TRIGGER" in body:
            raise KeyError("Data")
        return real(body)

    monkeypatch.setattr(strict, "parse_envelope", buggy)
    trigger = envelope([line("BTC", "1", "2.00")], extra='"Note": "TRIGGER", ')
    batch = normalize_raw(raw_frame(seed_body(), trigger, seed_body()))
    assert batch.snapshots.height == 2
    assert batch.rejected["error"].to_list() == ["unexpected normalizer failure (KeyError): 'Data'"]


def test_a_failure_in_the_batch_step_is_narrowed_to_its_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An expression that fails for the whole column when one body holds currency BOOM (as a
    # DECIMAL overflow would): the batch is halved until the failing body is found.
    import pipeline.normalize.frames as frames

    real = frames.implied_rate

    def fragile(value: str, balance: str) -> pl.Expr:
        def check(currency: pl.Series) -> pl.Series:
            if (currency == "BOOM").any():
                raise ArithmeticError("cannot compute")
            return currency

        guard = pl.col("currency").map_batches(check, return_dtype=pl.String)
        return (
            pl.when(guard.is_null())
            .then(None)
            .otherwise(real(value, balance))
            .alias("implied_rate")
        )

    monkeypatch.setattr(frames, "implied_rate", fragile)
    bodies = [seed_body()] * 5 + [envelope([line("BOOM", "1", "2.00")])] + [seed_body()] * 4
    batch = normalize_raw(raw_frame(*bodies))

    assert batch.snapshots.height == 9
    assert batch.lines.height == 9 * 4
    assert batch.rejected["client_number"].to_list() == [500608 + 5]
    assert batch.rejected["error"][0].startswith("unexpected normalizer failure (")
    assert "\n" not in batch.rejected["error"][0]


def currency_codes(count: int) -> list[str]:
    """`count` distinct currency codes of 1-5 characters (0-9, A-Z), shortest first."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    codes = ("".join(c) for n in range(1, 6) for c in itertools.product(alphabet, repeat=n))
    return list(itertools.islice(codes, count))


@pytest.mark.slow
def test_values_summing_past_decimal_38_2_reject_that_body_alone() -> None:
    # Every value fits DECIMAL(38,2) (at most 30 integer digits), but a body needs a million
    # lines of them before their sum (reconciliation) passes 10^36: that is what this builds.
    value = "999999999999999999999999999999.99"
    codes = currency_codes(1_000_001)
    assert len(set(codes)) == len(codes) == 1_000_001
    items = [line(code, "1", value, "1") for code in codes]
    huge = envelope(items)
    batch = normalize_raw(raw_frame(seed_body(), huge))
    assert batch.snapshots["client_number"].to_list() == [500608]
    assert batch.rejected["error"].to_list() == [
        "the lines' Value_ILS sum does not fit DECIMAL(38,2)"
    ]
    # 999,999 of them sum to less than 10^36: that body is kept, with all its lines.
    fits = normalize_raw(raw_frame(envelope(items[:-2])))
    assert fits.rejected.is_empty()
    assert fits.lines.height == 999_999


@pytest.mark.parametrize("one_by_one", [False, True], ids=["summed_in_polars", "one_by_one"])
def test_sums_at_the_decimal_38_2_edge_are_judged_to_the_cent(
    one_by_one: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Frames as parsing leaves them, with values up to DECIMAL(38,2)'s 36 integer digits: a
    # float cannot tell 10^36 from 10^36 - 0.01, the verdict must.
    if one_by_one:  # the path for bodies too long for an Int128 sum of whole units
        monkeypatch.setattr(fit, "_INT128_SUM_BOUND", 0)
    exact = Context(prec=80)  # the default context would round these to 28 digits
    half, cent = Decimal(5 * 10**35), Decimal("0.01")
    just_under = exact.subtract(half, cent)
    bodies = {  # _row: (values of its lines, reported total)
        0: ([half, just_under], None),  # 10^36 - 0.01: fits
        1: ([half, half], None),  # 10^36: does not
        2: ([-half, exact.minus(just_under)], None),  # -(10^36 - 0.01): fits
        3: ([just_under], -half),  # total minus sum: -(10^36 - 0.01): fits
        4: ([half], -half),  # total minus sum: -10^36: does not
        5: ([half, Decimal("0.99"), Decimal("-0.99"), just_under], None),  # fits
    }
    lines = pl.DataFrame(
        [
            (row, f"C{i}", Decimal(1), value, Decimal(1))
            for row, (values, _) in bodies.items()
            for i, value in enumerate(values)
        ],
        schema=PARSED_LINE_SCHEMA,
        orient="row",
    )
    snapshots = pl.DataFrame(
        [(row, 0, None, 1, None, 1, None, 1, "ILS", total, len(values))
         for row, (values, total) in bodies.items()],
        schema=PARSED_SNAPSHOT_SCHEMA,
        orient="row",
    )  # fmt: skip
    verdicts = fit.overflowing(snapshots, lines)
    assert dict(verdicts.iter_rows()) == {
        1: "the lines' Value_ILS sum does not fit DECIMAL(38,2)",
        4: "Total_Floating_Balance_ILS minus the lines' sum does not fit DECIMAL(38,2)",
    }
