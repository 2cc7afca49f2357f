"""What the simulated instance answers: (HTTP status, headers, body) for one request.

`handle` is the single entry point the HTTP handler calls, so later behaviours (faults on
demand: latency, 429, HTML 5xx, truncated JSON...) can wrap it without touching the server.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from urllib.parse import parse_qsl, urlsplit

from pipeline.simulator.clients import ClientSpec, client_book
from pipeline.simulator.config import AS_OF_HEADER, SimulatorConfig, hour_index
from pipeline.simulator.holdings import state_at
from pipeline.simulator.jsontext import dumps, fixed, trimmed
from pipeline.simulator.market import ASSETS, market

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
BALANCE_PATH = "/get_client_balance_json"
ALIVE_PATH = "/alive_check"

ERP_STATUS_TEXT = {
    0: "חדש",
    1: "מעקב",
    2: "מעקב + פגישה / הצעת מחיר",
    3: "לקוח לא מעוניין",
    4: "לקוח מאושר",
    5: "לקוח אמיתי",
    6: "לא פעיל / מושהה",
}
WEB_STATUS_TEXT = {0: "חסום", 1: "ממתין לאישור", 2: "מאושר / פעיל", 3: "בהמתנה (קריאה בלבד)"}

MSG_OK = "Client account is OK"
MSG_RESTRICTED = "Restrictive status - please review the case in the Hyper application"

# Wide enough that balance x rate is exact before the single rounding to cents.
_MONEY = Context(prec=60)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path plus optional query string
    headers: Mapping[str, str]  # case-insensitive lookups expected (http.client.HTTPMessage)
    body: bytes = b""


@dataclass(frozen=True)
class Reply:
    """An answer; `delay_seconds` is waited before sending, `reset` drops the connection (RST)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": JSON_CONTENT_TYPE})
    delay_seconds: float = 0.0
    reset: bool = False


def error_reply(status: int, code: int, message: str) -> Reply:
    return Reply(status, dumps({"ResponseCode": code, "ResponseMsgEng": message}).encode())


def balance_body(
    config: SimulatorConfig, client_number: int, instant: datetime
) -> tuple[int, bytes]:
    """The answer to a correctly authenticated balance request at `instant` (pure)."""
    spec = client_book(config.seed, config.n_extra_clients).get(client_number)
    if spec is None:
        reply = error_reply(200, 21, "Client does not exist in Hyper")
        return reply.status, reply.body
    return 200, dumps(_balance_document(config, spec, hour_index(instant))).encode()


def _balance_document(config: SimulatorConfig, spec: ClientSpec, hour: int) -> dict[str, object]:
    state = state_at(config.seed, spec, hour)
    ok = state.erp in (4, 5) and state.web == 2
    document: dict[str, object] = {
        "ResponseCode": 0 if ok else 1,
        "ResponseMsgEng": MSG_OK if ok else MSG_RESTRICTED,
        "ERP_Account_Status": state.erp,
        "ERP_Account_Status_Text": ERP_STATUS_TEXT[state.erp],
        "Web_Account_Status": state.web,
        "Web_Account_Status_Text": WEB_STATUS_TEXT[state.web],
        "Agency": state.agency,
    }
    if not ok and not spec.restricted_body:
        return document
    base = config.base_currency
    prices = market(config.seed)
    data, total = [], Decimal(0)
    for line in state.lines:
        places = ASSETS[line.currency].decimals
        rate = _MONEY.multiply(prices.rate(line.currency, base, hour), line.rate_skew)
        value = _MONEY.multiply(line.balance, rate).quantize(_CENT, ROUND_HALF_UP)
        total = _MONEY.add(total, value)
        # As in the seed: the base currency's value keeps its cents, others drop trailing zeros.
        shown = fixed(value, 2) if line.currency == base else trimmed(value, 2)
        data.append(
            {
                "Currency": line.currency,
                "Balance": fixed(line.balance, places),
                f"Value_{base}": shown,
                "Cash": fixed(line.cash, places),
            }
        )
    document["Data"] = data
    document[f"Total_Floating_Balance_{base}"] = fixed(total, 2)
    return document


def _fields(request: Request, query: str) -> dict[str, object] | None:
    """The posted fields: a JSON object body, else a form body or query string (as Hyper does)."""
    content_type = request.headers.get("Content-Type") or ""
    if request.body and "form-urlencoded" not in content_type:
        try:
            fields = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return fields if isinstance(fields, dict) else None
    raw = request.body.decode("utf-8", errors="replace") if request.body else query
    return dict(parse_qsl(raw))


def _client_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _instant(request: Request, now: datetime) -> datetime | None:
    raw = request.headers.get(AS_OF_HEADER)
    if not raw:
        return now
    try:
        instant = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)  # documented: naive means UTC
    return instant.astimezone(UTC)


def handle(config: SimulatorConfig, request: Request, now: datetime) -> Reply:
    """Route one request; `now` is the wall clock unless the as-of header overrides it."""
    split = urlsplit(request.target)
    path = split.path.rstrip("/").lower()
    if path == ALIVE_PATH and request.method in ("GET", "POST"):
        return Reply(200, dumps({"ResponseCode": 0, "ResponseMsgEng": "alive"}).encode())
    if path != BALANCE_PATH or request.method not in ("GET", "POST"):
        return error_reply(404, 3, "API function does not exist")
    fields = _fields(request, split.query)
    if fields is None:
        return error_reply(400, 7, "Please fill up the required fields.")
    number, password = fields.get("ClientNumber"), fields.get("API_Password")
    if number in (None, "") or not isinstance(password, str) or not password:
        return error_reply(400, 7, "Please fill up the required fields.")
    client_number = _client_number(number)
    if client_number is None:
        return error_reply(400, 14, "Posted fields contain wrong data and/or missing fields")
    instant = _instant(request, now)
    if instant is None:
        return error_reply(400, 14, f"{AS_OF_HEADER} must be an ISO-8601 instant")
    spec = client_book(config.seed, config.n_extra_clients).get(client_number)
    if spec is not None and not hmac.compare_digest(password.encode(), spec.password.encode()):
        return error_reply(401, 6, "Wrong account credentials")
    status, body = balance_body(config, client_number, instant)
    return Reply(status, body)
