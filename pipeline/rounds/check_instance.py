"""Check a Hyper instance end to end before the schedule depends on it, writing nothing.

Three steps, each a verdict with one line of detail: the URL answers (`alive_check`, which
bypasses the instance's security layers), the bearer token is accepted (refreshed first if it
has expired and a refresh token is configured), and one client's balance answer classifies as
`ok` or `restricted`. Nothing lands in the database; a refreshed token pair is saved to the
token-state file as in any run (the instance forgets the old pair once it issues a new one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import requests

from pipeline.hyper import Credential, Exchange
from pipeline.hyper.client import describe_network_error
from pipeline.hyper.retry import is_wrong_client_password
from pipeline.normalize.outcomes import SNAPSHOT_OUTCOMES, classify
from pipeline.rounds.source import Source, open_source
from pipeline.settings import ConfigurationError, Settings

ALIVE_PATH = "alive_check"
ALIVE_TIMEOUT_SECONDS = 10.0
# One try, plus one more after a bearer refresh or a transient failure: a check reports what
# the instance does now, it does not wait out a long backoff.
CHECK_ATTEMPTS = 2

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Step:
    name: str
    verdict: str  # ok, failed, skipped
    detail: str


@dataclass(frozen=True)
class InstanceCheck:
    instance: str
    steps: tuple[Step, ...]

    @property
    def ok(self) -> bool:
        return all(step.verdict == OK for step in self.steps)


def check_instance(settings: Settings, *, client_number: int | None = None) -> InstanceCheck:
    """Check the instance of `settings` (or the embedded simulator) with one client's answer.

    Args:
        settings: the configuration a run would use (URL, clients file, tokens).
        client_number: the client to ask; default the first one in the clients file.

    Raises:
        ConfigurationError: the clients file is missing or malformed, or does not hold
            `client_number`.
    """
    settings = replace(settings, max_attempts=min(settings.max_attempts, CHECK_ATTEMPTS))
    with open_source(settings, check_reachable=False) as source:
        credential = _credential(source, client_number)
        alive = _alive(source.client.base_url, settings.timeout_seconds)
        if alive.verdict != OK:
            skipped = Step("bearer", SKIPPED, "not checked: the instance did not answer")
            answer = Step("client", SKIPPED, "not checked: the instance did not answer")
            return InstanceCheck(settings.display_url, (alive, skipped, answer))
        mode = source.client.auth.mode
        refreshes = source.client.auth.refreshes
        started = time.perf_counter()
        exchanges = source.client.fetch_with_retries(credential)
        seconds = time.perf_counter() - started
        refreshed = source.client.auth.refreshes > refreshes
    return InstanceCheck(
        settings.display_url,
        (alive, _bearer(exchanges, mode, refreshed), _answer(credential, exchanges, seconds)),
    )


def _credential(source: Source, client_number: int | None) -> Credential:
    if not source.credentials:
        raise ConfigurationError("the clients file holds no client to check")
    if client_number is None:
        return source.credentials[0]
    for credential in source.credentials:
        if credential.client_number == client_number:
            return credential
    raise ConfigurationError(f"client {client_number} is not in the clients file")


def _alive(base_url: str, timeout_seconds: float) -> Step:
    started = time.perf_counter()
    try:
        with requests.get(
            f"{base_url}/{ALIVE_PATH}",
            timeout=(ALIVE_TIMEOUT_SECONDS, min(timeout_seconds, ALIVE_TIMEOUT_SECONDS)),
        ) as response:
            status = response.status_code
    except requests.RequestException as exc:
        kind = describe_network_error(exc).split(":")[0]
        return Step(
            "reachable", FAILED, f"no answer from {base_url} ({kind}); check the URL and network"
        )
    ms = (time.perf_counter() - started) * 1000
    if status != 200:
        return Step(
            "reachable",
            FAILED,
            f"{ALIVE_PATH} answered HTTP {status} in {ms:.0f} ms; is the URL the instance's "
            "Connection URL?",
        )
    return Step("reachable", OK, f"{ALIVE_PATH} answered HTTP 200 in {ms:.0f} ms")


def _bearer_rejected(exchange: Exchange) -> bool:
    return exchange.http_status == 401 and not is_wrong_client_password(exchange)


def _bearer(exchanges: list[Exchange], mode: str, refreshed: bool) -> Step:
    rejected = bool(exchanges) and _bearer_rejected(exchanges[-1])
    if mode == "none":
        if rejected:
            return Step(
                "bearer",
                FAILED,
                "the instance wants a bearer token: set HYPER_ACCESS_TOKEN "
                "(and HYPER_REFRESH_TOKEN to renew it)",
            )
        return Step("bearer", OK, "none configured, none required (unsecured API mode)")
    if rejected:
        tried = " after a refresh" if refreshed else ""
        hint = (
            "renew HYPER_ACCESS_TOKEN / HYPER_REFRESH_TOKEN"
            if mode == "refreshable"
            else "renew HYPER_ACCESS_TOKEN, or set HYPER_REFRESH_TOKEN"
        )
        return Step("bearer", FAILED, f"rejected{tried} (HTTP 401); {hint}")
    if refreshed:
        return Step("bearer", OK, "accepted after a refresh (the new pair is saved)")
    return Step("bearer", OK, f"accepted ({mode} token)")


def _answer(credential: Credential, exchanges: list[Exchange], seconds: float) -> Step:
    who = f"client {credential.client_number}"
    if not exchanges:
        return Step("client", FAILED, f"{who}: no request was made")
    final = classify(exchanges[-1])
    if final.outcome in SNAPSHOT_OUTCOMES:
        return Step(
            "client",
            OK,
            f"{who}: {final.outcome} (ResponseCode {final.response_code}) in {seconds:.2f} s, "
            f"{len(exchanges)} request(s); nothing was stored",
        )
    if _bearer_rejected(exchanges[-1]):
        return Step("client", SKIPPED, f"{who}: not checked, the bearer token was rejected")
    # The classified error names the client and never a secret.
    return Step("client", FAILED, f"{final.outcome}: {final.error}")
