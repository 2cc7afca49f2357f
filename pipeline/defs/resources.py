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


class HyperResource(dg.ConfigurableResource):
    """A Hyper instance (`base_url`) or, when unset, the embedded simulator on loopback.

    Holds no secret: client passwords stay in the clients file and are read when a round runs.
    """

    base_url: str | None = None
    clients_file: str | None = None
    timeout_seconds: float = 30.0
    max_workers: int = 8
    simulator_seed: int = 42
    simulator_base_currency: str = "ILS"

    @classmethod
    def from_settings(cls, settings: Settings) -> HyperResource:
        return cls(
            base_url=settings.base_url,
            clients_file=str(settings.clients_file) if settings.clients_file else None,
            timeout_seconds=settings.timeout_seconds,
            max_workers=settings.max_workers,
            simulator_seed=settings.simulator_seed,
            simulator_base_currency=settings.simulator_base_currency,
        )

    def settings(self) -> Settings:
        return Settings(
            base_url=self.base_url,
            clients_file=Path(self.clients_file) if self.clients_file else None,
            timeout_seconds=self.timeout_seconds,
            max_workers=self.max_workers,
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
    """A Store over the resource's connection, with UTC sessions and the DDL applied."""
    # DuckDB creates the file but not its folder (and the resource retries for minutes).
    Path(resource.database).parent.mkdir(parents=True, exist_ok=True)
    with resource.get_connection() as con:
        prepare(con)
        yield Store(con)


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    configure(con)
    apply_ddl(con)
