"""Environment variable names and defaults: the one place that reads configuration."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

HYPER_BASE_URL = "HYPER_BASE_URL"
HYPER_CLIENTS_FILE = "HYPER_CLIENTS_FILE"
HYPER_ACCESS_TOKEN = "HYPER_ACCESS_TOKEN"
HYPER_REFRESH_TOKEN = "HYPER_REFRESH_TOKEN"
HYPER_RATE_LIMIT_PER_MINUTE = "HYPER_RATE_LIMIT_PER_MINUTE"
HYPER_TIMEOUT_SECONDS = "HYPER_TIMEOUT_SECONDS"
HYPER_MAX_WORKERS = "HYPER_MAX_WORKERS"
HYPER_MAX_ATTEMPTS = "HYPER_MAX_ATTEMPTS"
HYPER_BACKOFF_BASE_SECONDS = "HYPER_BACKOFF_BASE_SECONDS"
HYPER_BACKOFF_MAX_SECONDS = "HYPER_BACKOFF_MAX_SECONDS"
HYPER_TOKEN_STATE_FILE = "HYPER_TOKEN_STATE_FILE"
PIPELINE_LOCK_TIMEOUT_SECONDS = "PIPELINE_LOCK_TIMEOUT_SECONDS"
PIPELINE_DB = "PIPELINE_DB"
PIPELINE_POLL_CRON = "PIPELINE_POLL_CRON"
PIPELINE_SIMULATOR_SEED = "PIPELINE_SIMULATOR_SEED"
PIPELINE_SIMULATOR_BASE_CURRENCY = "PIPELINE_SIMULATOR_BASE_CURRENCY"

DEFAULT_DB = "data/balances.duckdb"
DEFAULT_POLL_CRON = "0 * * * *"
DEFAULT_RATE_LIMIT_PER_MINUTE = 20.0
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_WORKERS = 8
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BACKOFF_BASE_SECONDS = 1.0
DEFAULT_BACKOFF_MAX_SECONDS = 60.0
# How long a second `pipeline run` waits for the first one to release the database.
DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0
TOKEN_STATE_FILE_NAME = "hyper_token_state.json"
# When the embedded simulator answers, the vendor's per-IP budget does not apply: the
# simulator is ours and on loopback, so the default pace would only slow demos down.
SIMULATOR_RATE_LIMIT_PER_MINUTE = 0.0


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline reads from the environment, parsed and validated."""

    base_url: str | None = None
    clients_file: Path | None = None
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    rate_limit_per_minute: float | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_workers: int = DEFAULT_MAX_WORKERS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base_seconds: float = DEFAULT_BACKOFF_BASE_SECONDS
    backoff_max_seconds: float = DEFAULT_BACKOFF_MAX_SECONDS
    token_state_file: Path | None = None
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    # The rate limit's window; 60 s in production, seconds in tests (the budget scales with it).
    rate_window_seconds: float = 60.0
    db_path: Path = Path(DEFAULT_DB)
    poll_cron: str = DEFAULT_POLL_CRON
    simulator_seed: int = 42
    simulator_base_currency: str = "ILS"

    @property
    def uses_simulator(self) -> bool:
        return self.base_url is None

    @property
    def effective_token_state_file(self) -> Path:
        """Where a refreshed token pair is kept: beside the database, never inside it."""
        return self.token_state_file or self.db_path.parent / TOKEN_STATE_FILE_NAME

    @property
    def effective_rate_limit(self) -> float:
        """Requests per minute the client allows itself; 0 means unlimited."""
        if self.rate_limit_per_minute is not None:
            return self.rate_limit_per_minute
        if self.uses_simulator:
            return SIMULATOR_RATE_LIMIT_PER_MINUTE
        return DEFAULT_RATE_LIMIT_PER_MINUTE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, kind: type, default: float | None) -> float | int | None:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigurationError(
                    f"{name}={raw!r} is not a valid {kind.__name__}; unset it or fix the value"
                ) from None
            if value < 0:
                raise ConfigurationError(f"{name} must not be negative (got {raw})")
            return value

        base_url = text(HYPER_BASE_URL)
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"{HYPER_BASE_URL}={base_url!r} must start with http:// or https://"
            )
        clients_file = text(HYPER_CLIENTS_FILE)
        return cls(
            base_url=base_url.rstrip("/") if base_url else None,
            clients_file=Path(clients_file) if clients_file else None,
            access_token=text(HYPER_ACCESS_TOKEN),
            refresh_token=text(HYPER_REFRESH_TOKEN),
            rate_limit_per_minute=number(HYPER_RATE_LIMIT_PER_MINUTE, float, None),
            timeout_seconds=number(HYPER_TIMEOUT_SECONDS, float, DEFAULT_TIMEOUT_SECONDS),
            max_workers=max(1, int(number(HYPER_MAX_WORKERS, int, DEFAULT_MAX_WORKERS))),
            max_attempts=max(1, int(number(HYPER_MAX_ATTEMPTS, int, DEFAULT_MAX_ATTEMPTS))),
            backoff_base_seconds=float(
                number(HYPER_BACKOFF_BASE_SECONDS, float, DEFAULT_BACKOFF_BASE_SECONDS)
            ),
            backoff_max_seconds=float(
                number(HYPER_BACKOFF_MAX_SECONDS, float, DEFAULT_BACKOFF_MAX_SECONDS)
            ),
            token_state_file=Path(token_file)
            if (token_file := text(HYPER_TOKEN_STATE_FILE))
            else None,
            lock_timeout_seconds=float(
                number(PIPELINE_LOCK_TIMEOUT_SECONDS, float, DEFAULT_LOCK_TIMEOUT_SECONDS)
            ),
            db_path=Path(text(PIPELINE_DB) or DEFAULT_DB),
            poll_cron=text(PIPELINE_POLL_CRON) or DEFAULT_POLL_CRON,
            simulator_seed=int(number(PIPELINE_SIMULATOR_SEED, int, 42)),
            simulator_base_currency=(text(PIPELINE_SIMULATOR_BASE_CURRENCY) or "ILS").upper(),
        )
