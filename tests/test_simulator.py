"""The Hyper simulator: exact money, determinism, the demo book's scenarios, real loopback HTTP."""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from pipeline.simulator import (
    AS_OF_HEADER,
    SEED_EXAMPLE_CLIENT,
    SEED_EXAMPLE_INSTANT,
    SimulatorConfig,
    SimulatorServer,
    balance_body,
    demo_credentials,
    write_credentials_csv,
)
from tests.seed_example import seed_document

CONFIG = SimulatorConfig()
SEED_PASSWORD = "8Lba7u5smABC"
WEEK = [SEED_EXAMPLE_INSTANT - timedelta(days=7) + timedelta(hours=h) for h in range(7 * 24 + 1)]


def parse(body: bytes | str) -> dict:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return json.loads(text, parse_float=Decimal)


def body_at(client: int, instant: datetime, config: SimulatorConfig = CONFIG) -> dict:
    status, body = balance_body(config, client, instant)
    assert status == 200
    return parse(body)


def demo_numbers(config: SimulatorConfig = CONFIG) -> list[int]:
    return [c.client_number for c in demo_credentials(config)]


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def passwords() -> dict[int, str]:
    return {c.client_number: c.api_password for c in demo_credentials(CONFIG)}


def post_balance(
    url: str, payload: object, instant: datetime | None = SEED_EXAMPLE_INSTANT
) -> requests.Response:
    headers = {AS_OF_HEADER: instant.isoformat()} if instant else {}
    return requests.post(f"{url}/Get_Client_Balance_json", json=payload, headers=headers, timeout=5)


def test_seed_example_answers_the_documented_figures_over_http(server: SimulatorServer) -> None:
    response = post_balance(
        server.url, {"ClientNumber": SEED_EXAMPLE_CLIENT, "API_Password": SEED_PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "לקוח אמיתי".encode() in response.content  # raw UTF-8, not \u escapes
    body = parse(response.content)
    assert body == seed_document()


def test_client_number_may_be_a_numeric_string(server: SimulatorServer) -> None:
    response = post_balance(
        server.url, {"ClientNumber": str(SEED_EXAMPLE_CLIENT), "API_Password": SEED_PASSWORD}
    )
    assert response.status_code == 200
    assert parse(response.content)["Total_Floating_Balance_ILS"] == Decimal("72888.65")


def test_same_seed_and_instant_give_identical_bytes() -> None:
    instant = SEED_EXAMPLE_INSTANT + timedelta(hours=37, minutes=12)
    for client in demo_numbers():
        assert balance_body(CONFIG, client, instant) == balance_body(
            SimulatorConfig(seed=42), client, instant
        )
    # Within one hour the answer does not move.
    assert balance_body(CONFIG, 500602, instant) == balance_body(
        CONFIG, 500602, instant.replace(minute=59)
    )


def test_prices_move_between_hours_and_depend_on_the_seed() -> None:
    def btc_rate(instant: datetime, seed: int = 42) -> Decimal:
        line = body_at(500613, instant, SimulatorConfig(seed=seed))["Data"][0]
        assert line["Currency"] == "BTC"
        return line["Value_ILS"] / line["Balance"]

    rates = {btc_rate(SEED_EXAMPLE_INSTANT + timedelta(hours=h)) for h in range(-3, 4)}
    assert len(rates) == 7
    later = SEED_EXAMPLE_INSTANT + timedelta(hours=5)
    assert btc_rate(later) != btc_rate(later, seed=7)


def test_total_is_the_exact_sum_of_values_for_every_client() -> None:
    config = SimulatorConfig(n_extra_clients=30)
    for hours in (-150, -1, 0, 1, 29, 500):
        instant = SEED_EXAMPLE_INSTANT + timedelta(hours=hours)
        for client in demo_numbers(config):
            body = body_at(client, instant, config)
            if "Data" not in body:
                continue
            values = [line["Value_ILS"] for line in body["Data"]]
            assert body["Total_Floating_Balance_ILS"] == sum(values, Decimal(0))
            assert all(line["Balance"] != 0 for line in body["Data"])
            currencies = [line["Currency"] for line in body["Data"]]
            assert currencies == sorted(currencies)


def test_usd_instance_names_fields_after_usd_and_values_usd_at_rate_one() -> None:
    usd = SimulatorConfig(base_currency="USD")
    for hours in (0, 13):
        body = body_at(SEED_EXAMPLE_CLIENT, SEED_EXAMPLE_INSTANT + timedelta(hours=hours), usd)
        assert "Total_Floating_Balance_USD" in body
        assert "Total_Floating_Balance_ILS" not in body
        lines = {line["Currency"]: line for line in body["Data"]}
        assert all(
            set(line) == {"Currency", "Balance", "Value_USD", "Cash"} for line in lines.values()
        )
        assert lines["USD"]["Value_USD"] == lines["USD"]["Balance"]
        assert body["Total_Floating_Balance_USD"] == sum(x["Value_USD"] for x in lines.values())


def test_eur_instance_works() -> None:
    body = body_at(500601, SEED_EXAMPLE_INSTANT, SimulatorConfig(base_currency="EUR"))
    lines = {line["Currency"]: line for line in body["Data"]}
    assert lines["EUR"]["Value_EUR"] == lines["EUR"]["Balance"] == Decimal("8400.00")


def test_unsupported_base_currency_is_rejected() -> None:
    with pytest.raises(ValueError, match="base_currency"):
        SimulatorConfig(base_currency="GBP")


def test_wrong_password_is_401_code_6(server: SimulatorServer) -> None:
    response = post_balance(server.url, {"ClientNumber": 500601, "API_Password": "wrongpass123"})
    assert response.status_code == 401
    assert parse(response.content) == {
        "ResponseCode": 6,
        "ResponseMsgEng": "Wrong account credentials",
    }


@pytest.mark.parametrize(
    "payload",
    [{"ClientNumber": 500601}, {"API_Password": "x"}, {"ClientNumber": "", "API_Password": "x"}],
)
def test_missing_fields_are_400_code_7(server: SimulatorServer, payload: dict) -> None:
    response = post_balance(server.url, payload)
    assert response.status_code == 400
    assert parse(response.content) == {
        "ResponseCode": 7,
        "ResponseMsgEng": "Please fill up the required fields.",
    }


def test_unparsable_body_is_400_code_7(server: SimulatorServer) -> None:
    response = requests.post(
        f"{server.url}/Get_Client_Balance_json",
        data=b'{"ClientNumber": 5006',
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert parse(response.content)["ResponseCode"] == 7


def test_unknown_client_is_200_code_21(server: SimulatorServer) -> None:
    response = post_balance(server.url, {"ClientNumber": 499999, "API_Password": "whatever1234"})
    assert response.status_code == 200
    assert parse(response.content) == {
        "ResponseCode": 21,
        "ResponseMsgEng": "Client does not exist in Hyper",
    }


def test_unknown_path_is_404_code_3(server: SimulatorServer) -> None:
    response = requests.post(f"{server.url}/Get_Client_Ledger_Report_Json", json={}, timeout=5)
    assert response.status_code == 404
    assert parse(response.content)["ResponseCode"] == 3


def test_bad_as_of_header_is_400(server: SimulatorServer, passwords: dict[int, str]) -> None:
    response = requests.post(
        f"{server.url}/Get_Client_Balance_json",
        json={"ClientNumber": 500601, "API_Password": passwords[500601]},
        headers={AS_OF_HEADER: "yesterday"},
        timeout=5,
    )
    assert response.status_code == 400


def test_alive_check_answers_get_and_post(server: SimulatorServer) -> None:
    for method in ("GET", "POST"):
        response = requests.request(method, f"{server.url}/alive_check", timeout=5)
        assert response.status_code == 200
        assert parse(response.content)["ResponseCode"] == 0


def test_without_as_of_header_the_wall_clock_is_used(
    server: SimulatorServer, passwords: dict[int, str]
) -> None:
    response = post_balance(
        server.url, {"ClientNumber": 500602, "API_Password": passwords[500602]}, instant=None
    )
    assert response.status_code == 200
    assert parse(response.content)["ResponseCode"] == 0


def test_meme_coin_balance_keeps_eleven_integer_digits_and_eight_decimals(
    server: SimulatorServer, passwords: dict[int, str]
) -> None:
    response = post_balance(server.url, {"ClientNumber": 500603, "API_Password": passwords[500603]})
    assert '"Balance": 150000000000.12345678' in response.text
    pepe = next(line for line in parse(response.content)["Data"] if line["Currency"] == "PEPE")
    integer, decimals = str(pepe["Balance"]).split(".")
    assert len(integer) >= 11 and len(decimals) == 8


def test_dust_balance_is_one_satoshi() -> None:
    lines = body_at(500604, SEED_EXAMPLE_INSTANT)["Data"]
    assert any(line["Balance"] == Decimal("0.00000001") for line in lines)


def test_empty_client_returns_empty_data_and_zero_total() -> None:
    body = body_at(500607, SEED_EXAMPLE_INSTANT)
    assert body["ResponseCode"] == 0
    assert body["Data"] == []
    assert body["Total_Floating_Balance_ILS"] == 0


def test_restricted_clients_return_code_1_with_and_without_balances() -> None:
    without = body_at(500610, SEED_EXAMPLE_INSTANT)
    assert without["ResponseCode"] == 1
    assert "Data" not in without and "Total_Floating_Balance_ILS" not in without
    with_body = body_at(500611, SEED_EXAMPLE_INSTANT)
    assert with_body["ResponseCode"] == 1
    assert with_body["Data"]


def test_a_week_of_hourly_history_covers_the_scenarios() -> None:
    vanished_and_returned = status_changed = locked = negative = False
    for client in demo_numbers():
        bodies = [body_at(client, instant) for instant in WEEK]
        for body in bodies:
            ok = body["ERP_Account_Status"] in (4, 5) and body["Web_Account_Status"] == 2
            assert body["ResponseCode"] == (0 if ok else 1)
        statuses = {(b["ERP_Account_Status"], b["Web_Account_Status"]) for b in bodies}
        status_changed |= len(statuses) > 1
        held = [{line["Currency"] for line in b.get("Data", [])} for b in bodies]
        for currency in set().union(*held):
            presence = "".join("1" if currency in h else "0" for h in held)
            vanished_and_returned |= re.search("10+1", presence) is not None
        lines = [line for b in bodies for line in b.get("Data", [])]
        locked |= any(line["Cash"] < line["Balance"] for line in lines)
        negative |= any(line["Balance"] < 0 for line in lines)
    assert vanished_and_returned
    assert status_changed
    assert locked
    assert negative


def test_suspended_client_goes_to_status_6_and_back() -> None:
    erp = [body_at(500609, instant)["ERP_Account_Status"] for instant in WEEK]
    assert re.search("56+5", "".join(map(str, erp)))


def test_stuck_lock_stays_unchanged_while_other_locks_come_and_go() -> None:
    def locked(client: int, currency: str) -> list[Decimal]:
        result = []
        for instant in WEEK:
            line = next(
                (x for x in body_at(client, instant)["Data"] if x["Currency"] == currency), None
            )
            result.append(line["Balance"] - line["Cash"] if line else Decimal(0))
        return result

    assert set(locked(500606, "USDT")) == {Decimal(7500)}
    assert len(set(locked(500602, "BTC"))) > 2


def test_outlier_client_is_sometimes_valued_at_an_off_rate() -> None:
    ratios = []
    for instant in WEEK:
        own = {x["Currency"]: x for x in body_at(500613, instant)["Data"]}
        ref = {x["Currency"]: x for x in body_at(500602, instant)["Data"]}
        own_rate = own["ETH"]["Value_ILS"] / own["ETH"]["Balance"]
        ref_rate = ref["ETH"]["Value_ILS"] / ref["ETH"]["Balance"]
        ratios.append(own_rate / ref_rate)
    off = [r for r in ratios if abs(r - 1) > Decimal("0.01")]
    assert 0 < len(off) < len(ratios) / 3


def test_extra_clients_follow_the_demo_book() -> None:
    config = SimulatorConfig(n_extra_clients=200)
    credentials = demo_credentials(config)
    assert len(credentials) == 14 + 200
    numbers = [c.client_number for c in credentials]
    assert numbers == list(range(500601, 500601 + 214))
    assert all(len(c.api_password) == 12 and c.api_password.isalnum() for c in credentials)
    assert body_at(500814, SEED_EXAMPLE_INSTANT, config)["ResponseCode"] in (0, 1)


def test_passwords_are_deterministic_per_seed_and_hidden_from_repr() -> None:
    def passwords_for(seed: int) -> dict[int, str]:
        return {c.client_number: c.api_password for c in demo_credentials(SimulatorConfig(seed))}

    assert passwords_for(42) == passwords_for(42)
    other = passwords_for(1)
    assert all(other[n] != p for n, p in passwords_for(42).items() if n != SEED_EXAMPLE_CLIENT)
    assert other[SEED_EXAMPLE_CLIENT] == SEED_PASSWORD
    seed = next(c for c in demo_credentials(CONFIG) if c.client_number == SEED_EXAMPLE_CLIENT)
    assert SEED_PASSWORD not in repr(seed)


def test_credentials_csv_lists_every_client(tmp_path: Path) -> None:
    path = write_credentials_csv(tmp_path / "nested" / "creds.csv", CONFIG)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["client_number", "api_password", "label"]
    assert [int(r["client_number"]) for r in rows] == demo_numbers()


def test_keep_alive_session_serves_200_requests_quickly(
    server: SimulatorServer, passwords: dict[int, str]
) -> None:
    headers = {AS_OF_HEADER: SEED_EXAMPLE_INSTANT.isoformat()}
    started = time.perf_counter()
    with requests.Session() as session:
        for i in range(200):
            client = 500601 + i % 14
            response = session.post(
                f"{server.url}/Get_Client_Balance_json",
                json={"ClientNumber": client, "API_Password": passwords[client]},
                headers=headers,
                timeout=5,
            )
            assert response.status_code == 200
    assert time.perf_counter() - started < 5
