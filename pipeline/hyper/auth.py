"""Bearer tokens: none, a static access token, or a refreshable pair persisted across runs.

Modes (hyper_api.md §1):
- none: no `Authorization` header ("Unsecured API mode").
- static: `HYPER_ACCESS_TOKEN` only; a 401 cannot be fixed by us, it is an `auth_error`.
- refreshable: `HYPER_ACCESS_TOKEN` + `HYPER_REFRESH_TOKEN`. On a 401 that is not "wrong client
  password" the client calls `RefreshToken` once with the refresh token as bearer (single-flight
  across threads: the instance keeps one access token at a time), stores the new pair (the
  refresh token may rotate) in the token-state file (mode 0600), and retries once.

The token-state file remembers which environment refresh token it descends from (a hash, never
the token): while the environment still holds that token, the file's newer pair wins (the
environment's refresh token may already be rotated away); when the operator puts a different
pair in the environment, the environment wins and the file is rewritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.hyper.redact import register_secrets

log = logging.getLogger(__name__)

REFRESH_PATH = "RefreshToken"
# Field names seen or plausible for the refresh answer ([I] in hyper_api.md): matched without case.
_ACCESS_KEYS = ("accesstoken", "access_token", "token", "bearer")
_REFRESH_KEYS = ("refreshtoken", "refresh_token")


class TokenRefreshError(RuntimeError):
    """The refresh call failed; the message never contains a token."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)


def _fingerprint(token: str | None) -> str | None:
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else None


def write_private(path: Path, text: str) -> None:
    """Write `text` atomically to a file only its owner can read (0600 from creation on)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing tmp file or a umask must not widen it
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class TokenStateFile:
    """The persisted pair, tied to the environment refresh token it descends from."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self, env_refresh: str | None) -> TokenPair | None:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or state.get("seed") != _fingerprint(env_refresh):
            return None
        return TokenPair(state.get("access_token"), state.get("refresh_token"))

    def save(self, pair: TokenPair, env_refresh: str | None) -> None:
        state = {
            "seed": _fingerprint(env_refresh),
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
        }
        write_private(self.path, json.dumps(state))


# (refresh_token) -> new pair; raises TokenRefreshError. The client provides it (HTTP).
RefreshCall = Callable[[str], TokenPair]


class TokenManager:
    """Current bearer tokens, shared by all worker threads of one client."""

    def __init__(
        self,
        access_token: str | None = None,
        refresh_token: str | None = None,
        *,
        state_file: Path | None = None,
    ) -> None:
        register_secrets([access_token, refresh_token])
        self._env_refresh = refresh_token
        self._state = TokenStateFile(state_file) if state_file and refresh_token else None
        stored = self._state.load(refresh_token) if self._state else None
        pair = stored or TokenPair(access_token, refresh_token)
        register_secrets([pair.access_token, pair.refresh_token])
        self._pair = pair
        self._generation = 0
        self._lock = threading.Lock()
        self._refresh_call: RefreshCall | None = None
        self.refreshes = 0

    @property
    def mode(self) -> str:
        if self._pair.refresh_token:
            return "refreshable"
        return "static" if self._pair.access_token else "none"

    @property
    def can_refresh(self) -> bool:
        return self._pair.refresh_token is not None and self._refresh_call is not None

    def bind(self, refresh_call: RefreshCall) -> None:
        self._refresh_call = refresh_call

    def current(self) -> tuple[str | None, int]:
        """(access token or None, generation): pass the generation back to `refresh`."""
        pair, generation = self._pair, self._generation
        return pair.access_token, generation

    def refresh(self, seen_generation: int) -> bool:
        """Get a new access token unless another thread already did since `seen_generation`.

        Returns True when a token newer than the one that failed is available.
        """
        with self._lock:
            if self._generation != seen_generation:
                return True  # single flight: someone refreshed while we waited
            if not self.can_refresh:
                return False
            assert self._refresh_call is not None and self._pair.refresh_token is not None
            try:
                fresh = self._refresh_call(self._pair.refresh_token)
            except TokenRefreshError as exc:
                log.warning("bearer token refresh failed: %s", exc)
                return False
            pair = TokenPair(fresh.access_token, fresh.refresh_token or self._pair.refresh_token)
            register_secrets([pair.access_token, pair.refresh_token])
            if self._state is not None:
                self._state.save(pair, self._env_refresh)
            self._pair = pair
            self._generation += 1
            self.refreshes += 1
            log.info("bearer token refreshed (refresh #%d)", self.refreshes)
            return True


def parse_refresh_answer(status: int, body: bytes) -> TokenPair:
    """The new pair from a `RefreshToken` answer, or TokenRefreshError (no token in the text)."""
    if status != 200:
        raise TokenRefreshError(f"RefreshToken answered HTTP {status}")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TokenRefreshError("RefreshToken answered a body that is not JSON") from None
    if not isinstance(doc, dict):
        raise TokenRefreshError("RefreshToken answered JSON that is not an object")
    lowered = {str(k).lower(): v for k, v in doc.items()}
    access = next((lowered[k] for k in _ACCESS_KEYS if isinstance(lowered.get(k), str)), None)
    refresh = next((lowered[k] for k in _REFRESH_KEYS if isinstance(lowered.get(k), str)), None)
    if not access:
        raise TokenRefreshError("RefreshToken answer holds no access token")
    return TokenPair(access, refresh)
