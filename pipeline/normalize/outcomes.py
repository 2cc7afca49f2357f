"""Classify one HTTP exchange with the outcome words of the data contract.

| outcome            | meaning                                                              |
|--------------------|----------------------------------------------------------------------|
| `ok`               | 200 with ResponseCode 0 and a balance envelope                       |
| `restricted`       | ResponseCode 1: the account has a restrictive status                 |
| `api_error`        | the API answered with another ResponseCode (2, 4, 5, 7, 10, 21, ...) |
| `auth_error`       | 401: wrong client password (ResponseCode 6) or a rejected bearer     |
| `rate_limited`     | 429 (too many requests) or 423 (account busy, try again later)       |
| `http_error`       | any other non-2xx status without a JSON envelope (HTML error pages)  |
| `network_error`    | no HTTP answer: connection refused or reset, timeout                 |
| `invalid_response` | an answer that is not a well-formed balance envelope                 |
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.hyper.models import Exchange
from pipeline.normalize.fit import envelope_overflow
from pipeline.normalize.parse import InvalidResponse, ParsedEnvelope, parse_envelope

OK = "ok"
RESTRICTED = "restricted"
API_ERROR = "api_error"
AUTH_ERROR = "auth_error"
RATE_LIMITED = "rate_limited"
HTTP_ERROR = "http_error"
NETWORK_ERROR = "network_error"
INVALID_RESPONSE = "invalid_response"

OUTCOMES = (
    OK,
    RESTRICTED,
    API_ERROR,
    AUTH_ERROR,
    RATE_LIMITED,
    HTTP_ERROR,
    NETWORK_ERROR,
    INVALID_RESPONSE,
)
# 401 with this ResponseCode: the client's API password is wrong (not the bearer token).
WRONG_CLIENT_PASSWORD = 6
# Outcomes whose body becomes a balance snapshot.
SNAPSHOT_OUTCOMES = (OK, RESTRICTED)


@dataclass(frozen=True)
class Classified:
    outcome: str
    response_code: int | None = None
    error: str | None = None
    extra_fields: tuple[str, ...] = ()


def classify(exchange: Exchange) -> Classified:
    """Decide the outcome of one exchange; the error text names the client, never a secret."""
    who = f"client {exchange.client_number}"
    if exchange.http_status is None:
        return Classified(NETWORK_ERROR, error=f"{who}: {exchange.network_error}")
    status = exchange.http_status
    if exchange.body_truncated:
        return Classified(
            INVALID_RESPONSE,
            error=f"{who}: body of {exchange.body_size} bytes exceeds the size cap; kept truncated",
        )
    if exchange.decode_error:
        return Classified(INVALID_RESPONSE, error=f"{who}: {exchange.decode_error}")
    envelope, parse_error = _try_parse(exchange.body or "")
    code = envelope.response_code if envelope else None
    message = (envelope.response_message or "").strip() if envelope else ""
    detail = f"ResponseCode {code}" + (f" ({message})" if message else "") if envelope else ""

    if status == 401:
        if code == WRONG_CLIENT_PASSWORD:
            reason = "wrong API password (ResponseCode 6); fix its row in the clients file"
        else:
            reason = (
                "bearer token rejected; check HYPER_ACCESS_TOKEN / HYPER_REFRESH_TOKEN "
                "(a refresh was tried when a refresh token is configured)"
            )
        return Classified(AUTH_ERROR, code, f"{who}: HTTP 401 {reason}")
    if status in (423, 429):
        return Classified(RATE_LIMITED, code, f"{who}: HTTP {status} {detail}".strip())
    if status != 200:
        if envelope is not None:
            return Classified(API_ERROR, code, f"{who}: HTTP {status} {detail}")
        return Classified(HTTP_ERROR, None, f"{who}: HTTP {status} without a JSON envelope")
    if envelope is None:
        return Classified(INVALID_RESPONSE, None, f"{who}: {parse_error}")
    if code in (0, 1) and (overflow := envelope_overflow(envelope)) is not None:
        # It parsed, but its money cannot be stored: rejected alone, its raw body kept.
        return Classified(INVALID_RESPONSE, code, f"{who}: {overflow}", envelope.extra_fields)
    if code == 1:
        return Classified(RESTRICTED, code, None, envelope.extra_fields)
    if code != 0:
        return Classified(API_ERROR, code, f"{who}: {detail}", envelope.extra_fields)
    if not envelope.has_balance_data:
        return Classified(INVALID_RESPONSE, code, f"{who}: ResponseCode 0 without a Data array")
    return Classified(OK, code, None, envelope.extra_fields)


def _try_parse(body: str) -> tuple[ParsedEnvelope | None, str | None]:
    try:
        return parse_envelope(body), None
    except InvalidResponse as exc:
        return None, str(exc)
    except Exception as exc:  # a parser bug must not lose the raw body or stop the round
        return None, f"unexpected parser failure ({type(exc).__name__})"
