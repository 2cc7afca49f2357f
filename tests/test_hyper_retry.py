"""Retries: what is retried, how long it waits, and that every attempt is its own exchange."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.hyper import Credential, Exchange, HyperClient
from pipeline.hyper.retry import RetryPolicy, parse_retry_after, run_with_retries
from pipeline.simulator import SimulatorConfig, SimulatorServer, demo_credentials
from pipeline.simulator.faults import FaultPlan

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def exchange(status: int | None, body: str | None = None, retry_after: float | None = None):
    return Exchange(
        client_number=500601,
        attempt=0,
        requested_at=NOW,
        observed_at=NOW,
        duration_ms=1.0,
        http_status=status,
        body=body,
        network_error="connection error: reset" if status is None else None,
        retry_after=retry_after,
    )


def scripted(*answers: Exchange):
    """An attempt function that plays `answers` in order (the last one repeats)."""
    calls: list[int] = []

    def attempt(number: int) -> Exchange:
        calls.append(number)
        answer = answers[min(number, len(answers)) - 1]
        return Exchange(**{**answer.__dict__, "attempt": number})

    return attempt, calls


@pytest.mark.parametrize("status", [None, 423, 429, 500, 502, 503, 504])
def test_transient_answers_are_retried_up_to_max_attempts(status: int | None) -> None:
    waits: list[float] = []
    attempt, calls = scripted(exchange(status))
    result = run_with_retries(attempt, RetryPolicy(max_attempts=3, sleep=waits.append))
    assert [e.attempt for e in result] == [1, 2, 3] == calls
    assert len(waits) == 2


@pytest.mark.parametrize("status", [200, 400, 403, 404, 422])
def test_final_answers_are_not_retried(status: int) -> None:
    attempt, calls = scripted(exchange(status, '{"ResponseCode": 7}'))
    assert len(run_with_retries(attempt, RetryPolicy(max_attempts=5, sleep=lambda _: None))) == 1
    assert calls == [1]


def test_recovery_stops_retrying_and_keeps_every_attempt() -> None:
    attempt, _ = scripted(exchange(503), exchange(None), exchange(200, '{"ResponseCode": 0}'))
    result = run_with_retries(attempt, RetryPolicy(max_attempts=5, sleep=lambda _: None))
    assert [e.http_status for e in result] == [503, None, 200]


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    waits: list[float] = []
    attempt, _ = scripted(exchange(500))
    policy = RetryPolicy(
        max_attempts=7, backoff_base_seconds=1.0, backoff_max_seconds=10.0, sleep=waits.append
    )
    run_with_retries(attempt, policy)
    assert len(waits) == 6
    for n, wait in enumerate(waits[:3]):
        assert 2**n <= wait <= 2**n + 1.0  # base * 2^n plus up to `base` of jitter
    assert all(w <= 10.0 for w in waits)


def test_retry_after_is_honoured_and_too_long_a_pause_is_final() -> None:
    waits: list[float] = []
    attempt, _ = scripted(exchange(429, retry_after=7), exchange(200, '{"ResponseCode": 0}'))
    run_with_retries(attempt, RetryPolicy(backoff_base_seconds=0.1, sleep=waits.append))
    assert 7.0 <= waits[0] <= 7.05
    attempt, calls = scripted(exchange(429, retry_after=3600))
    run_with_retries(attempt, RetryPolicy(max_retry_after_seconds=120, sleep=waits.append))
    assert calls == [1]


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = (NOW + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, now=NOW) == pytest.approx(30.0)


def test_401_wrong_client_password_is_final_and_does_not_refresh() -> None:
    refreshes: list[Exchange] = []
    attempt, calls = scripted(exchange(401, '{"ResponseCode": 6, "ResponseMsgEng": "Wrong"}'))
    run_with_retries(
        attempt,
        RetryPolicy(sleep=lambda _: None),
        on_unauthorized=lambda e: refreshes.append(e) or True,
    )
    assert calls == [1] and refreshes == []


def test_401_bearer_is_retried_once_after_a_refresh_without_waiting() -> None:
    waits: list[float] = []
    attempt, calls = scripted(exchange(401, '{"Message": "denied"}'))
    run_with_retries(
        attempt, RetryPolicy(max_attempts=5, sleep=waits.append), on_unauthorized=lambda _: True
    )
    assert calls == [1, 2] and waits == [0.0]
    attempt, calls = scripted(exchange(401, '{"Message": "denied"}'))
    run_with_retries(attempt, RetryPolicy(sleep=waits.append), on_unauthorized=lambda _: False)
    assert calls == [1]


def test_client_records_each_attempt_over_real_http() -> None:
    config = SimulatorConfig(faults=FaultPlan(clients={500602: "html_503"}, clear_probability=1))
    demo = {c.client_number: c for c in demo_credentials(config)}
    with (
        SimulatorServer(config) as server,
        HyperClient(server.url, retry=RetryPolicy(sleep=lambda _: None)) as client,
    ):
        result = client.fetch_with_retries(Credential(500602, demo[500602].api_password))
    assert [(e.attempt, e.http_status) for e in result] == [(1, 503), (2, 200)]
