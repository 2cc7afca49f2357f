"""The protective layers in front of the function, as a Hyper instance has them (§2).

Order: per-caller rate limit (429) -> bearer token (401) -> the function, with faults on demand
applied to balance answers. `alive_check` bypasses all of them. `RefreshToken` takes the refresh
token as bearer and issues a new access token (the old one stops working: one at a time) and,
when `rotate_refresh`, a new refresh token.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from pipeline.simulator.config import SimulatorConfig, hour_index
from pipeline.simulator.faults import FaultPlan, FaultState, apply_fault
from pipeline.simulator.jsontext import dumps
from pipeline.simulator.responses import (
    ALIVE_PATH,
    BALANCE_PATH,
    Reply,
    Request,
    _client_number,
    _fields,
    _instant,
    handle,
)

REFRESH_PATH = "/refreshtoken"
ACCESS_TOKEN_LENGTH = 120
REFRESH_TOKEN_LENGTH = 200
# What ASP.NET-style hosts answer for a missing/expired bearer: not the ResponseCode envelope.
_DENIED = dumps({"Message": "Authorization has been denied for this request."}).encode()


@dataclass(frozen=True)
class AuthSpec:
    """Require `Authorization: Bearer <access token>`; refreshable when `refresh_token` is set."""

    access_token: str
    refresh_token: str | None = None
    access_lifetime_seconds: float | None = None  # None: never expires
    rotate_refresh: bool = True


@dataclass(frozen=True)
class RateLimitSpec:
    """At most `limit` requests per caller IP in any `window_seconds` (sliding); else 429."""

    limit: int
    window_seconds: float = 60.0
    send_retry_after: bool = True


class AuthState:
    def __init__(self, spec: AuthSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self.access_token = spec.access_token
        self.refresh_token = spec.refresh_token
        self.issued = time.monotonic()
        self.refreshes = 0
        self.rejected = 0
        self._expired = False

    def expire(self) -> None:
        """Make the current access token invalid now (tests); a refresh issues a valid one."""
        with self._lock:
            self._expired = True

    def allows(self, header: str | None) -> bool:
        with self._lock:
            lifetime = self.spec.access_lifetime_seconds
            fresh = not self._expired and (
                lifetime is None or time.monotonic() - self.issued < lifetime
            )
            ok = fresh and _bearer(header) == self.access_token
            self.rejected += not ok
            return ok

    def refresh(self, header: str | None) -> Reply:
        with self._lock:
            if self.refresh_token is None or _bearer(header) != self.refresh_token:
                self.rejected += 1
                return Reply(401, _DENIED, {"Content-Type": "application/json"})
            self.access_token = _token(ACCESS_TOKEN_LENGTH)
            if self.spec.rotate_refresh:
                self.refresh_token = _token(REFRESH_TOKEN_LENGTH)
            self.issued = time.monotonic()
            self._expired = False
            self.refreshes += 1
            body = {
                "ResponseCode": 0,
                "AccessToken": self.access_token,
                "RefreshToken": self.refresh_token,
            }
            return Reply(200, dumps(body).encode())


class RateLimitState:
    def __init__(self, spec: RateLimitSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self.rejected = 0

    def check(self, caller: str) -> Reply | None:
        now = time.monotonic()
        with self._lock:
            seen = self._seen[caller]
            while seen and seen[0] <= now - self.spec.window_seconds:
                seen.popleft()
            if len(seen) < self.spec.limit:
                seen.append(now)
                return None
            self.rejected += 1
            wait = max(1, math.ceil(seen[0] + self.spec.window_seconds - now))
        headers = {"Content-Type": "text/plain"}
        if self.spec.send_retry_after:
            headers["Retry-After"] = str(wait)
        return Reply(429, b"Too Many Requests", headers)


class SimulatorState:
    """The mutable side of one simulated instance: tokens, rate windows, fault attempts."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.auth = AuthState(config.auth) if config.auth else None
        self.rate_limit = RateLimitState(config.rate_limit) if config.rate_limit else None
        self.faults = FaultState()
        self.requests = 0
        self._lock = threading.Lock()

    def serve(self, request: Request, now: datetime, caller: str) -> Reply:
        with self._lock:
            self.requests += 1
        path = urlsplit(request.target).path.rstrip("/").lower()
        if path == ALIVE_PATH:
            return handle(self.config, request, now)
        if self.rate_limit is not None and (limited := self.rate_limit.check(caller)):
            return limited
        authorization = request.headers.get("Authorization")
        if path == REFRESH_PATH and self.auth is not None:
            return self.auth.refresh(authorization)
        if self.auth is not None and not self.auth.allows(authorization):
            headers = {
                "Content-Type": "application/json",
                "WWW-Authenticate": 'Bearer error="invalid_token"',
            }
            return Reply(401, _DENIED, headers)
        plan: FaultPlan | None = self.config.faults
        if plan is None or path != BALANCE_PATH:
            return handle(self.config, request, now)
        fields = _fields(request, urlsplit(request.target).query) or {}
        client_number = _client_number(fields.get("ClientNumber"))
        instant = _instant(request, now)
        if client_number is None or instant is None:
            return handle(self.config, request, now)
        return apply_fault(
            plan,
            self.faults,
            client_number,
            hour_index(instant),
            lambda: handle(self.config, request, now),
        )


def _bearer(header: str | None) -> str | None:
    if not header or not header.lower().startswith("bearer "):
        return None
    return header[7:].strip()


def _token(length: int) -> str:
    return secrets.token_urlsafe(length)[:length]
