"""Resources: where balances come from (`hyper`), where they land (`store`), who watches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path

import dagster as dg

from pipeline.rounds.shards import parse_shard, select_shard
from pipeline.rounds.source import Source, open_source
from pipeline.settings import Settings, ShardPlan, tokens_from_env
from pipeline.store import Database, Store

# Settings that hold secrets (read at run time, never config) or belong to the store.
_NOT_HYPER_CONFIG = frozenset(
    {
        "access_token",
        "refresh_token",
        "db_path",
        "lock_timeout_seconds",
        "read_wait_seconds",
        "max_failed_share",
        "lake_data_path",
        "s3_endpoint",
        "poll_cron",
        "dagster_home",
        "pipeline_start",
        "shards",  # the schedule's: each run gets its shard as run config
    }
)


class HyperResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """A Hyper instance (`base_url`) or, when unset, the embedded simulator on loopback.

    Built from `Settings` (`from_settings`), which owns every default: no field has one here.
    Holds no secret: client passwords stay in the clients file and bearer tokens in the
    environment (HYPER_ACCESS_TOKEN / HYPER_REFRESH_TOKEN); both are read when a round runs, so
    neither reaches Dagster's run config or event log.
    """

    base_url: str | None
    clients_file: str | None
    token_state_file: str
    timeout_seconds: float
    max_workers: int
    rate_limit_per_minute: float | None
    max_attempts: int
    backoff_base_seconds: float
    backoff_max_seconds: float
    simulator_seed: int
    simulator_base_currency: str

    @classmethod
    def from_settings(cls, settings: Settings, *, bind_env: bool = False) -> HyperResource:
        """The resource for `settings`; with `bind_env`, set URL and clients file as EnvVars.

        Binding through `dg.EnvVar` shows the variable's name in the UI instead of its value.
        """
        values: dict[str, object] = {
            f.name: getattr(settings, f.name)
            for f in fields(settings)
            if f.name not in _NOT_HYPER_CONFIG
        }
        values["token_state_file"] = settings.effective_token_state_file
        values = {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}
        if bind_env and settings.base_url is not None:
            values["base_url"] = dg.EnvVar("HYPER_BASE_URL")
        if bind_env and settings.clients_file is not None:
            values["clients_file"] = dg.EnvVar("HYPER_CLIENTS_FILE")
        return cls(**values)  # type: ignore[arg-type]

    def settings(self) -> Settings:
        access, refresh = tokens_from_env()
        values = {name: getattr(self, name) for name in type(self).model_fields}
        values["clients_file"] = Path(self.clients_file) if self.clients_file else None
        values["token_state_file"] = Path(self.token_state_file)
        return Settings(**values, access_token=access, refresh_token=refresh)

    @property
    def is_simulator(self) -> bool:
        return self.base_url is None

    @contextmanager
    def open(self, shard: ShardPlan | None = None) -> Iterator[Source]:
        settings = self.settings()
        if shard is not None:
            # The shard's egress replaces the resource's (one session per shard run).
            settings = replace(
                settings, source_address=shard.source_address, proxy_url=shard.proxy_url
            )
        with open_source(settings) as source:
            if shard is not None:
                source = replace(
                    source, credentials=select_shard(source.credentials, parse_shard(shard.spec))
                )
            yield source


@dataclass(frozen=True)
class OpenedSource:
    """An already open source (the CLI opened it: one clients-file read, one alive check)."""

    source: Source
    max_workers: int

    @property
    def is_simulator(self) -> bool:
        return self.source.is_simulator

    @contextmanager
    def open(self, shard: ShardPlan | None = None) -> Iterator[Source]:
        if shard is not None:  # its clients and egress were chosen when it was opened
            raise ValueError("an already open source cannot take a shard's run config")
        yield self.source


class StoreResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The database the pipeline writes (a DuckDB file), opened per write under the run lock.

    Taking the run lock makes runs launched by the UI or the daemon queue behind `pipeline run`
    instead of failing on DuckDB's single-writer error (re-entrant under `pipeline run`).
    """

    database: str
    lock_timeout_seconds: float
    read_wait_seconds: float
    # Fail a round when more than this share of its clients failed (None: only when all did).
    max_failed_share: float | None = None
    # With a DuckLake `database`: where its Parquet files go (a folder or s3://…).
    lake_data_path: str | None = None
    # With an s3:// data path on an S3-compatible store other than AWS: its endpoint URL.
    s3_endpoint: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> StoreResource:
        return cls(
            database=str(settings.db_path),
            lock_timeout_seconds=settings.lock_timeout_seconds,
            read_wait_seconds=settings.read_wait_seconds,
            max_failed_share=settings.max_failed_share,
            lake_data_path=settings.lake_data_path,
            s3_endpoint=settings.s3_endpoint,
        )

    def db(self) -> Database:
        return Database(
            Path(self.database),
            lock_timeout_seconds=self.lock_timeout_seconds,
            read_wait_seconds=self.read_wait_seconds,
            lake_data_path=self.lake_data_path,
            s3_endpoint=self.s3_endpoint,
        )

    @contextmanager
    def writer(self) -> Iterator[Store]:
        """One short write session (waits for readers up to the lock timeout)."""
        with self.db().writer() as store:
            yield store


# Progress of a long run: (done, total, detail). The CLI draws a bar; under `dg dev` no one
# listens, and the run's log carries the milestones instead.
ProgressCallback = Callable[[int, int, str], None]


def no_progress(done: int, total: int, detail: str) -> None:
    """The default progress listener: nobody is watching."""
