"""Which attempts are retried, and how long to wait before the next (tenacity).

- 429, 423, 5xx, connection errors and timeouts are transient: retried with exponential backoff
  plus jitter, or after `Retry-After` when the server sent one (plus a little jitter, so workers
  that were told the same instant do not return together).
- 401 is retried once, and only after the token manager obtained a newer access token. A 401
  whose body says ResponseCode 6 means the *client's* API password is wrong: no refresh, no retry.
- Everything else (200s, 400, 403, 404, invalid bodies) is final.

Every attempt is its own `Exchange`, so every attempt becomes a `fetch_attempts` row.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from pipeline.hyper.models import Exchange

WRONG_CLIENT_CREDENTIALS = 6  # hyper_api.md §3: 401 + ResponseCode 6


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one client. `sleep` is injectable so tests never wait for real."""

    max_attempts: int = 4
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    # A server asking for a longer pause than this is not waited for: the attempt is final.
    max_retry_after_seconds: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


def is_transient(exchange: Exchange) -> bool:
    status = exchange.http_status
    return status is None or status in (423, 429) or 500 <= status <= 599


def response_code_of(exchange: Exchange) -> int | None:
    """The envelope's ResponseCode when the body is a JSON object holding one (legacy "006" too)."""
    if not exchange.body or exchange.body_encoding != "utf-8" or len(exchange.body) > 65536:
        return None
    try:
        doc = json.loads(exchange.body)
    except ValueError:
        return None
    code = doc.get("ResponseCode") if isinstance(doc, dict) else None
    if isinstance(code, str) and code.strip().isdigit():
        return int(code.strip())
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def is_wrong_client_password(exchange: Exchange) -> bool:
    return exchange.http_status == 401 and response_code_of(exchange) == WRONG_CLIENT_CREDENTIALS


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def run_with_retries(
    attempt: Callable[[int], Exchange],
    policy: RetryPolicy,
    *,
    on_unauthorized: Callable[[Exchange], bool] = lambda _: False,
) -> list[Exchange]:
    """Call `attempt(n)` for n = 1, 2, ... until an answer is final; return every exchange.

    Args:
        attempt: performs HTTP attempt number n and returns its Exchange (never raises for
            HTTP trouble).
        policy: attempts, backoff and the sleep function.
        on_unauthorized: called once for a 401 that is not "wrong client password"; returns
            True when a fresh bearer token is available (then the request is retried once).
    """
    exchanges: list[Exchange] = []
    refreshed = False

    def call() -> Exchange:
        exchange = attempt(len(exchanges) + 1)
        exchanges.append(exchange)
        return exchange

    def should_retry(exchange: Exchange) -> bool:
        nonlocal refreshed
        if len(exchanges) >= policy.max_attempts:
            return False
        if exchange.http_status == 401:
            if refreshed or is_wrong_client_password(exchange):
                return False
            refreshed = True
            return on_unauthorized(exchange)
        if not is_transient(exchange):
            return False
        pause = exchange.retry_after
        return pause is None or pause <= policy.max_retry_after_seconds

    backoff = wait_exponential_jitter(
        multiplier=policy.backoff_base_seconds,
        max=policy.backoff_max_seconds,
        jitter=policy.backoff_base_seconds,
    )

    def wait(state: RetryCallState) -> float:
        assert state.outcome is not None
        exchange: Exchange = state.outcome.result()
        if exchange.http_status == 401:
            return 0.0  # a fresh token: try again at once
        if exchange.retry_after is not None:
            return exchange.retry_after + random.uniform(0, policy.backoff_base_seconds / 2)
        return backoff(state)

    Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        retry=retry_if_result(should_retry),
        wait=wait,
        sleep=policy.sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )(call)
    return exchanges
