"""Resources: the Hyper source (live or embedded simulator) and DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipeline.settings import Settings
from pipeline.source import Source, open_source
from pipeline.store import Store
from pipeline.store.database import apply_ddl, configure
from pipeline.store.lock import run_lock


class HyperResource(dg.ConfigurableResource):
    """A Hyper instance (`base_url`) or, when unset, the embedded simulator on loopback.

    Holds no secret: client passwords stay in the clients file and bearer tokens in the
    environment (HYPER_ACCESS_TOKEN / HYPER_REFRESH_TOKEN); both are read when a round runs, so
    neither reaches Dagster's run config or event log.
    """

    base_url: str | None = None
    clients_file: str | None = None
    timeout_seconds: float = 30.0
    max_workers: int = 8
    rate_limit_per_minute: float | None = None
    rate_window_seconds: float = 60.0
    max_attempts: int = 4
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    token_state_file: str | None = None
    db_path: str | None = None
    simulator_seed: int = 42
    simulator_base_currency: str = "ILS"

    @classmethod
    def from_settings(cls, settings: Settings) -> HyperResource:
        return cls(
            base_url=settings.base_url,
            clients_file=str(settings.clients_file) if settings.clients_file else None,
            timeout_seconds=settings.timeout_seconds,
            max_workers=settings.max_workers,
            rate_limit_per_minute=settings.rate_limit_per_minute,
            rate_window_seconds=settings.rate_window_seconds,
            max_attempts=settings.max_attempts,
            backoff_base_seconds=settings.backoff_base_seconds,
            backoff_max_seconds=settings.backoff_max_seconds,
            token_state_file=str(settings.effective_token_state_file),
            db_path=str(settings.db_path),
            simulator_seed=settings.simulator_seed,
            simulator_base_currency=settings.simulator_base_currency,
        )

    def settings(self) -> Settings:
        # Tokens come from the environment at run time, never from this resource's config.
        env = Settings.from_env()
        return Settings(
            base_url=self.base_url,
            clients_file=Path(self.clients_file) if self.clients_file else None,
            access_token=env.access_token,
            refresh_token=env.refresh_token,
            timeout_seconds=self.timeout_seconds,
            max_workers=self.max_workers,
            rate_limit_per_minute=self.rate_limit_per_minute,
            rate_window_seconds=self.rate_window_seconds,
            max_attempts=self.max_attempts,
            backoff_base_seconds=self.backoff_base_seconds,
            backoff_max_seconds=self.backoff_max_seconds,
            token_state_file=Path(self.token_state_file) if self.token_state_file else None,
            db_path=Path(self.db_path) if self.db_path else env.db_path,
            simulator_seed=self.simulator_seed,
            simulator_base_currency=self.simulator_base_currency,
        )

    @property
    def is_simulator(self) -> bool:
        return self.base_url is None

    @contextmanager
    def open(self) -> Iterator[Source]:
        with open_source(self.settings()) as source:
            yield source


@contextmanager
def store_from(resource: DuckDBResource) -> Iterator[Store]:
    """A Store over the resource's connection, with UTC sessions and the DDL applied.

    Takes the run lock, so runs launched by the UI or the daemon queue behind `pipeline run`
    instead of failing on DuckDB's single-writer error (re-entrant under `pipeline run`).
    """
    db_path = Path(resource.database)
    # DuckDB creates the file but not its folder (and the resource retries for minutes).
    db_path.parent.mkdir(parents=True, exist_ok=True)
    timeout = Settings.from_env().lock_timeout_seconds
    with run_lock(db_path, timeout_seconds=timeout), resource.get_connection() as con:
        prepare(con)
        yield Store(con)


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    configure(con)
    apply_ddl(con)
