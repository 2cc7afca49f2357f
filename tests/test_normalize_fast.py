"""The fast normalization route against its referee, the strict parser.

`normalize_raw` sends the bodies its grammar gate accepts through DuckDB's typed `from_json` and
every other body through `parse_envelope`; `normalize_raw_strict` sends all of them through
`parse_envelope`. Whatever the bodies, both must give the same snapshots, lines, rejections
(reason texts included) and schema-drift counts, and the fast route must really be taken by
the common bodies (else this file would prove nothing).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipeline.hyper.models import Exchange
from pipeline.normalize import (
    RAW_SCHEMA,
    NormalizedBatch,
    normalize_raw,
    normalize_raw_strict,
)
from pipeline.normalize.fast import GRAMMAR
from pipeline.normalize.outcomes import classify
from pipeline.rounds.ingest import ingest_range
from pipeline.rounds.replay import replay
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig
from pipeline.simulator.clients import client_book
from pipeline.simulator.faults import (
    BENIGN_FAULTS,
    FINAL_FAULTS,
    FaultPlan,
    FaultState,
    apply_fault,
)
from pipeline.simulator.responses import Reply, balance_body
from pipeline.store import Database, Store, landing_batch, open_store
from tests.seed_example import seed_body

SLOT = datetime(2026, 11, 1, 12, tzinfo=UTC)
PROPERTY_SETTINGS = settings(
    # Examples come from the profile: 100 by default; `--hypothesis-profile=deep` (registered
    # in conftest.py) draws 3,000 for a thorough run before a release.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def raw_frame(bodies: list[str | None], clients: list[int] | None = None) -> pl.DataFrame:
    n = len(bodies)
    return pl.DataFrame(
        {
            "raw_id": [f"raw-{i:03d}" for i in range(n)],
            "client_number": clients or [500601 + i for i in range(n)],
            "slot_start": [SLOT] * n,
            "observed_at": [SLOT + timedelta(seconds=i % 3) for i in range(n)],
            "body": bodies,
        },
        schema=RAW_SCHEMA,
    )


def assert_same(fast: NormalizedBatch, strict: NormalizedBatch) -> None:
    assert_frame_equal(fast.snapshots, strict.snapshots)
    assert_frame_equal(fast.lines, strict.lines)
    assert_frame_equal(fast.rejected, strict.rejected)
    assert fast.extra_fields == strict.extra_fields


def both_routes(raw: pl.DataFrame) -> NormalizedBatch:
    """normalize_raw's result, after checking the referee agrees with it."""
    fast = normalize_raw(raw)
    assert_same(fast, normalize_raw_strict(raw))
    assert fast.snapshots.height + fast.rejected.height == raw.height
    return fast


def simulator_bodies(base: str, hours: int, clients: int = 40) -> list[str]:
    config = SimulatorConfig(base_currency=base, n_extra_clients=clients)
    numbers = list(client_book(config.seed, config.n_extra_clients))
    return [
        balance_body(config, number, SEED_EXAMPLE_INSTANT + timedelta(hours=h))[1].decode()
        for h in range(hours)
        for number in numbers
    ]


# --- the common bodies take the fast route ---------------------------------------------------


def test_simulator_bodies_of_every_base_take_the_fast_route_and_match_the_referee() -> None:
    bodies = [*simulator_bodies("ILS", 3), *simulator_bodies("USD", 2), *simulator_bodies("EUR", 1)]
    bodies.append(seed_body())  # the endpoint doc's example: newlines, Hebrew
    batch = both_routes(raw_frame(bodies))

    assert batch.fast_bodies == len(bodies)
    assert batch.rejected.is_empty()
    assert set(batch.snapshots["base_currency"].drop_nulls()) == {"ILS", "USD", "EUR"}
    assert batch.lines.height > 2 * len(bodies)


def test_the_gate_accepts_legacy_typing_and_both_routes_agree() -> None:
    legacy = (
        '{"ResponseCode": "000", "ResponseMsgEng": "ok", "ERP_Account_Status": "05", '
        '"Web_Account_Status": "-02", "Agency": null, "Data": [{"Currency": "USD", '
        '"Balance": "5000.00", "Value_USD": "5000.00", "Cash": "4500.00"}], '
        '"Total_Floating_Balance_USD": "5000.00"}'
    )
    batch = both_routes(raw_frame([legacy]))
    assert batch.fast_bodies == 1
    assert batch.snapshots.row(0, named=True)["web_account_status"] == -2


def test_a_failing_fast_route_hands_its_batch_to_the_strict_parser(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import pipeline.normalize.fast as fast

    def broken(envelopes: pl.DataFrame) -> pl.DataFrame:
        raise pl.exceptions.ComputeError("could not allocate")  # injected

    raw = raw_frame(simulator_bodies("ILS", 1, clients=0))
    expected = normalize_raw_strict(raw)
    monkeypatch.setattr(fast, "_lines", broken)
    batch = normalize_raw(raw)

    assert_same(batch, expected)
    assert batch.fast_bodies == 0
    assert "fast normalization failed (ComputeError); 14 bodies" in caplog.text


# --- hostile shapes: the fast route must not take what a bulk reader would change ------------

LINE = '{"Currency": "BTC", "Balance": 1.5, "Value_ILS": 3.00, "Cash": 1.5}'


def body(data: str = f"[{LINE}]", *, code: str = "0", tail: str = "", total: str = "3.00") -> str:
    return (
        f'{{"ResponseCode": {code}, "ResponseMsgEng": "ok", "ERP_Account_Status": 5, '
        f'"Data": {data}{tail}, "Total_Floating_Balance_ILS": {total}}}'
    )


HOSTILE = {
    # DuckDB rounds these into DECIMAL(38,8) / (38,2); the strict parser rejects them.
    "nine_decimals": body(f"[{LINE.replace('1.5,', '0.123456789,', 1)}]"),
    "three_decimal_value": body(f"[{LINE.replace('3.00', '3.001')}]"),
    "three_decimal_total": body(total="3.001"),
    "exponent": body(f"[{LINE.replace('1.5,', '15e-1,', 1)}]"),
    "thirty_one_digits": body(f"[{LINE.replace('1.5,', '1' * 31 + ',', 1)}]"),
    "trailing_zeros_past_scale": body(f"[{LINE.replace('3.00', '3.000')}]"),
    # DuckDB keeps the first duplicate key; the strict parser rejects the body.
    "duplicate_top_key": body(tail=', "ResponseCode": 1'),
    "duplicate_line_key": body(f"[{LINE[:-1]}, " + '"Cash": 2}]'),
    "duplicate_currency": body(f"[{LINE}, {LINE}]"),
    # A typed struct drops undeclared fields: the base must come from the text.
    "value_usd_total_ils": body(f"[{LINE.replace('Value_ILS', 'Value_USD')}]"),
    "mixed_line_bases": body(f"[{LINE}, {LINE.replace('BTC', 'ETH').replace('_ILS', '_EUR')}]"),
    "null_total_usd": body(total="null").replace('_ILS": null', '_USD": null'),
    "lowercase_base": body(f"[{LINE.replace('Value_ILS', 'Value_ils')}]"),
    # DuckDB's reader is lenient where Python's json is not, and coerces types.
    "trailing_comma": body(f"[{LINE},]"),
    "nan_balance": body(f"[{LINE.replace('1.5,', 'NaN,', 1)}]"),
    "infinity_cash": body(f"[{LINE.replace('1.5}', '-Infinity}')}]"),
    "float_code": body(code="0.5"),
    "bool_code": body(code="true"),
    "string_float_status": body().replace('"ERP_Account_Status": 5', '"ERP_Account_Status": "1.7"'),
    "int32_overflow": body().replace('"ERP_Account_Status": 5', '"ERP_Account_Status": 2147483648'),
    "number_currency": body("[" + LINE.replace('"BTC"', "5") + "]"),
    "number_message": body().replace('"ok"', "5"),
    "escaped_quote": body().replace('"ok"', '"o\\"k"'),
    "unicode_escape": body().replace('"ok"', '"\\u05dc"'),
    "lone_surrogate": body().replace('"ok"', '"\\ud800"'),
    "key_text_in_message": body().replace('"ok"', '"Total_Floating_Balance_USD"'),
    # Unknown fields are schema drift, counted by the strict parser.
    "extra_top_field": body(tail=', "Server_Build": "7.3.1"'),
    "extra_line_field": body(f"[{LINE[:-1]}, " + '"Pending": 0}]'),
    # Shapes and envelopes.
    "code_0_without_data": body("null"),
    "error_envelope": '{"ResponseCode": 6, "ResponseMsgEng": "Wrong account credentials"}',
    "restricted_without_data": '{"ResponseCode": 1, "ERP_Account_Status": 6}',
    "keys_reordered": '{"Data": [], "ResponseCode": 0, "Total_Floating_Balance_ILS": 0}',
    "data_object": body('{"Currency": "BTC"}'),
    "truncated": body()[:60],
    "bom": "\ufeff" + body(),
    "unicode_space": body().replace(" ", "\u00a0", 1),
    "vertical_tab": body().replace(" ", "\x0b", 1),
    "currency_with_space": body(f"[{LINE.replace('BTC', 'BT C')}]"),
    "currency_too_long": body(f"[{LINE.replace('BTC', 'BTCBTC')}]"),
    "negative_zero": body(f"[{LINE.replace('1.5,', '-0,', 1)}]"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_shape_gets_the_referees_verdict(name: str) -> None:
    text = HOSTILE[name]
    batch = both_routes(raw_frame([text, body()]))
    assert batch.fast_bodies >= 1  # the plain body beside it still takes the fast route


@pytest.mark.parametrize(
    ("name", "gated"),
    [
        ("nine_decimals", False),
        ("three_decimal_value", False),
        ("duplicate_top_key", False),
        ("duplicate_line_key", False),
        ("trailing_comma", False),
        ("float_code", False),
        ("bool_code", False),
        ("string_float_status", False),
        ("escaped_quote", False),
        ("extra_top_field", False),
        ("bom", False),
        ("key_text_in_message", True),
        ("negative_zero", True),
        ("restricted_without_data", True),
        ("value_usd_total_ils", True),  # gated, then flagged: mixed bases
        ("duplicate_currency", True),  # gated, then flagged: listed twice
    ],
)
def test_gate_admits_only_the_canonical_grammar(name: str, gated: bool) -> None:
    assert bool(pl.Series([HOSTILE[name]]).str.contains(GRAMMAR)[0]) is gated


@pytest.mark.parametrize("name", ["duplicate_currency", "mixed_line_bases", "value_usd_total_ils"])
def test_flagged_bodies_are_judged_by_the_strict_parser(name: str) -> None:
    batch = both_routes(raw_frame([HOSTILE[name]]))
    assert batch.fast_bodies == 0
    assert batch.rejected["error"][0].startswith(("currency 'BTC'", "response mixes"))


# --- the property: any body, both routes agree -----------------------------------------------

WS = st.sampled_from(["", " ", "  ", "\n", "\r\n", "\t"])


def plain(places: int, max_integer_digits: int = 30) -> st.SearchStrategy[str]:
    digits = st.integers(1, max_integer_digits).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    )
    integer = digits.map(lambda d: d.lstrip("0") or "0")
    fraction = st.integers(0, places).flatmap(
        lambda n: st.just("") if n == 0 else st.text("0123456789", min_size=n, max_size=n)
    )
    sign = st.sampled_from(["", "", "-"])
    return st.builds(lambda s, i, f: f"{s}{i}" + (f".{f}" if f else ""), sign, integer, fraction)


def mostly(usual: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`usual` 19 times in 20, else `odd`: most bodies stay close enough to the canonical
    shape to reach the fast route, and every component still goes wrong somewhere."""
    # Hypothesis shrinks towards 0: a shrunk failure shows the usual shape wherever it can.
    return st.integers(0, 19).flatmap(lambda roll: odd if roll == 19 else usual)


def amount(scale: int) -> st.SearchStrategy[str]:
    """A JSON token for money: mostly canonical, sometimes every way it can go wrong."""
    canonical = plain(scale, 20)
    odd = st.one_of(
        plain(scale + 3),  # too many decimals (sometimes)
        plain(scale, 32),  # too many integer digits (sometimes)
        st.builds(lambda m, e: f"{m}e{e}", plain(3, 3), st.integers(-12, 12)),
        st.sampled_from(
            [
                "-0",
                "0.0",
                "-0.00000000",
                "1.1000000000",
                "007",
                "+5",
                "NaN",
                "Infinity",
                "-Infinity",
                "null",
                "true",
                "[1]",
                "{}",
                '"abc"',
                '" 5 "',
                '"1,000.00"',
                '"007.50"',
                '"1e3"',
                "999999999999999999999999999999.99999999",
                "-999999999999999999999999999999.99",
            ]
        ),
    )
    return mostly(st.one_of(canonical, canonical.map(json.dumps)), odd)


TEXT = mostly(
    st.one_of(
        st.sampled_from(['"Client account is OK"', '"לקוח אמיתי"', "null", '""', '"Value_USD"']),
        st.text(
            st.characters(codec="utf-8", exclude_categories=["Cc"], exclude_characters='"\\'),
            max_size=12,
        ).map(lambda t: json.dumps(t, ensure_ascii=False)),
    ),
    st.sampled_from(['"a\\"b"', '"\\u05dc"', '"\\ud800"', "5", '"tab\there"', '"x\\\\"']),
)
INT = mostly(
    st.sampled_from(["0", "5", "-3", '"05"', '"-02"', "null", '"000"', "123456789"]),
    st.sampled_from(["2147483648", "1.0", '"x"', "true", '"1.7"', "-0", '" 5"']),
)
CODE = mostly(
    st.sampled_from(["0", "0", "1", '"000"', '"001"']),
    st.sampled_from(["6", '"0.5"', "0.5", "true", "-0", "null", '"21"']),
)
CODES = ["BTC", "ETH", "USD", "ILS", "PEPE", "USDT", "1INCH", "SOL", "EUR", "X.Y"]
ODD_CURRENCY = st.sampled_from(
    ['""', '"TOOLONG"', '" BTC"', '"₿"', "5", "null", '"B\\"C"', '"{"', '"BTC"']
)
BASE = mostly(
    st.sampled_from(["ILS"] * 4 + ["USD", "EUR", "CHF", "USDC"]),
    st.sampled_from(["ils", "TOOLONG", "", "US"]),
)


def pairs(draw: st.DrawFn, fields: list[tuple[str, str]]) -> str:
    """An object's text from (key, value token) pairs, drawn in order or not, perhaps with a
    field dropped, duplicated or added."""
    fields = list(fields)
    if fields and draw(st.integers(0, 29)) == 29:
        del fields[draw(st.integers(0, len(fields) - 1))]
    if fields and draw(st.integers(0, 39)) == 39:
        fields.append(fields[draw(st.integers(0, len(fields) - 1))])
    if draw(st.integers(0, 29)) == 29:
        fields.append((draw(st.sampled_from(["Server_Build", "Pending", "Note"])), '"x"'))
    if draw(st.integers(0, 29)) == 29:
        fields = draw(st.permutations(fields))
    ws = draw(WS)
    return (
        "{" + ws + ("," + ws).join(f'"{k}"{draw(WS)}:{draw(WS)}{v}' for k, v in fields) + ws + "}"
    )


@st.composite
def envelope(draw: st.DrawFn) -> str:
    base = draw(BASE)
    lines = []
    currencies = [
        json.dumps(c) for c in draw(st.lists(st.sampled_from(CODES), max_size=4, unique=True))
    ]
    if currencies and draw(st.integers(0, 9)) == 9:
        currencies[-1] = draw(ODD_CURRENCY)  # '"BTC"' among them: sometimes listed twice
    for currency in currencies:
        line_base = draw(BASE) if draw(st.integers(0, 19)) == 19 else base
        fields = [
            ("Currency", currency),
            ("Balance", draw(amount(8))),
            (f"Value_{line_base}", draw(amount(2))),
            ("Cash", draw(amount(8))),
        ]
        lines.append(pairs(draw, fields))
    data = draw(st.sampled_from(["list"] * 8 + ["null", "object", "numbers"]))
    data_text = {
        "list": "[" + ", ".join(lines) + "]",
        "null": "null",
        "object": lines[0] if lines else "{}",
        "numbers": "[1, 2]",
    }[data]
    fields = [
        ("ResponseCode", draw(CODE)),
        ("ResponseMsgEng", draw(TEXT)),
        ("ERP_Account_Status", draw(INT)),
        ("ERP_Account_Status_Text", draw(TEXT)),
        ("Web_Account_Status", draw(INT)),
        ("Web_Account_Status_Text", draw(TEXT)),
        ("Agency", draw(INT)),
        ("Data", data_text),
        (
            f"Total_Floating_Balance_{draw(BASE) if draw(st.integers(0, 19)) == 19 else base}",
            draw(mostly(amount(2), st.just("null"))),
        ),
    ]
    text = pairs(draw, fields)
    wrap = draw(st.integers(0, 39))
    if wrap == 39:
        text = "\ufeff" + text
    elif wrap == 38:
        text = text[: draw(st.integers(0, len(text)))]
    elif wrap == 37:
        text = f"\n {text} \n"
    elif wrap == 36:
        text += " x"
    return text


@st.composite
def fault_body(draw: st.DrawFn) -> str:
    """A simulator answer with one of its final or benign faults applied."""
    kinds = [k for k in (*FINAL_FAULTS, *BENIGN_FAULTS) if k not in ("oversize", "latency")]
    kind = draw(st.sampled_from(kinds))
    config = SimulatorConfig(base_currency=draw(st.sampled_from(["ILS", "USD", "EUR"])))
    client = draw(st.sampled_from(sorted(client_book(config.seed, 0))))
    hour = draw(st.integers(0, 500))
    status, answer = balance_body(config, client, SEED_EXAMPLE_INSTANT + timedelta(hours=hour))
    plan = FaultPlan(clients={client: kind})
    reply = apply_fault(plan, FaultState(), client, hour, lambda: Reply(status, answer))
    return reply.body.decode("utf-8", "replace")  # invalid_utf8 is stored as base64 upstream


ANY_BODIES = st.lists(
    st.one_of(envelope(), fault_body(), st.text(max_size=40)), min_size=1, max_size=6
)
# Few distinct clients: several answers for one (client, slot) also test the tie-break.
CLIENTS = st.lists(st.integers(0, 2), min_size=6, max_size=6)


@pytest.mark.slow  # 100 examples through both routes: ≈ 9 CPU-s
@PROPERTY_SETTINGS
@given(ANY_BODIES, CLIENTS)
def test_both_routes_agree_on_any_body(bodies: list[str], clients: list[int]) -> None:
    both_routes(raw_frame(bodies, [500601 + c for c in clients[: len(bodies)]]))


@pytest.mark.slow
def test_the_property_generator_reaches_the_fast_route() -> None:
    # Guards the property above from testing only the strict parser against itself: collect
    # what the body strategy draws, then count how many bodies the fast route takes.
    drawn: list[str] = []

    @settings(max_examples=100, deadline=None, database=None, phases=[Phase.generate])
    @given(envelope())
    def collect(text: str) -> None:
        drawn.append(text)

    collect()
    batch = normalize_raw(raw_frame(drawn))
    assert batch.fast_bodies >= len(drawn) // 10, (batch.fast_bodies, len(drawn))
    assert batch.rejected.height >= len(drawn) // 10  # and the strict verdicts are exercised


# --- in the store: landed, ingested, replayed --------------------------------------------------

MAX_BALANCE = "999999999999999999999999999999.99999999"


def land(store: Store, bodies: dict[int, str]) -> None:
    """Record one 200 answer per client for SLOT, classified as the poller would."""
    items = []
    for number, text in bodies.items():
        exchange = Exchange(
            client_number=number,
            attempt=1,
            requested_at=SLOT,
            observed_at=SLOT + timedelta(seconds=1),
            duration_ms=5.0,
            http_status=200,
            body=text,
            body_size=len(text.encode()),
        )
        items.append((SLOT, exchange, classify(exchange)))
    store.land(landing_batch("test-run", items, {}))


def history(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    snapshots = store.con.execute("select * from balance_snapshots order by all").fetchall()
    lines = store.con.execute("select * from balance_lines order by all").fetchall()
    return snapshots, lines


def test_bom_body_is_stored_byte_exact_and_becomes_a_snapshot(tmp_path: Path) -> None:
    marked = "\ufeff" + seed_body()
    path = tmp_path / "bom.duckdb"
    with open_store(path) as store:
        land(store, {500608: marked})
    summary = ingest_range(Database(path), SLOT, SLOT + timedelta(hours=1))
    with open_store(path) as store:
        stored = store.con.execute("select body from raw_responses").fetchall()
        outcome = store.con.execute("select outcome from fetch_attempts").fetchall()
    assert stored == [(marked,)]
    assert outcome == [("ok",)]
    assert (summary.snapshots, summary.lines, summary.rejected) == (1, 4, 0)


def test_overflowing_bodies_land_as_rejections_and_the_rest_of_the_batch_lands(
    tmp_path: Path,
) -> None:
    amounts = f'"Balance": {MAX_BALANCE}, "Value_ILS": 1.00, "Cash": -{MAX_BALANCE}'
    overflow = body(f'[{{"Currency": "BTC", {amounts}}}]')
    good = simulator_bodies("ILS", 1, clients=0)
    bodies = {500601 + i: text for i, text in enumerate(good)} | {600001: overflow}
    path = tmp_path / "overflow.duckdb"
    with open_store(path) as store:
        land(store, bodies)
    first = ingest_range(Database(path), SLOT, SLOT + timedelta(hours=1))
    with open_store(path) as store:
        stored = history(store)
    again = ingest_range(Database(path), SLOT, SLOT + timedelta(hours=1))
    with open_store(path) as store:
        assert history(store) == stored  # a re-run changes nothing
        replayed = replay(store)
        assert history(store) == stored
    assert first.snapshots == len(good) and first.rejected == 1
    assert again.snapshots == 0
    assert replayed.rejected == 1 and replayed.snapshots == len(good)
    assert sum(replayed.changes.values()) == 0


def test_the_fast_route_keeps_every_digit_on_this_duckdb() -> None:
    """The pinned DuckDB's from_json rounds 150000000000.12345678 through a double; the fast
    route reads no number through DuckDB, so the meme coin's 20 significant digits survive."""
    bodies = simulator_bodies("ILS", 1, clients=0)
    batch = normalize_raw(raw_frame(bodies))
    assert batch.fast_bodies == len(bodies)
    pepe = batch.lines.filter(pl.col("currency") == "PEPE")["balance"].cast(pl.String).to_list()
    assert pepe and all(text.endswith(".12345678") for text in pepe)
