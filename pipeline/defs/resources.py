"""Resources: the Hyper source (live or embedded simulator) and DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipeline.settings import Settings
from pipeline.source import Source, open_source
from pipeline.store import Store
from pipeline.store.database import apply_ddl, configure
from pipeline.store.lock import run_lock

# Resource fields holding paths (Settings keeps them as Path, Dagster config as str).
_PATH_FIELDS = ("clients_file", "token_state_file", "db_path")


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
        values = {name: getattr(settings, name) for name in cls.model_fields}
        values["token_state_file"] = settings.effective_token_state_file
        return cls(**{k: str(v) if isinstance(v, Path) else v for k, v in values.items()})

    def settings(self) -> Settings:
        # Tokens come from the environment at run time, never from this resource's config.
        env = Settings.from_env()
        values = {name: getattr(self, name) for name in type(self).model_fields}
        for name in _PATH_FIELDS:
            values[name] = Path(values[name]) if values[name] else None
        values["db_path"] = values["db_path"] or env.db_path
        return replace(env, **values)

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
