"""The Dagster instance the CLI runs in: a folder `dg dev` can open, written quickly.

Dagster's SQLite event log opens a connection, commits and closes it for every event; each
close checkpoints the write-ahead log and each commit syncs the disk. A week's demo writes
about 2,600 events (a materialization and a check evaluation per slot and asset), so that
took most of its time. With one pooled connection per shard and `synchronous=NORMAL`, a
48-slot backfill costs what it costs on an ephemeral in-memory instance (`bench/event_log.py`:
stock folder 2.35x the in-memory reference, pooled folder 0.90x, same run). The files and their
schema are Dagster's own, so `dg dev` reads them with its stock storage.

With `synchronous=NORMAL` in WAL mode a crash of the process loses nothing; a power cut may
lose the last events of the run log (never balances: those are in DuckDB, committed by the
pipeline itself). A folder whose `dagster.yaml` configures anything is used as configured.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from filelock import FileLock
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# Where DagsterSqliteStorage keeps the event log of a folder (dagster._core.instance.ref).
EVENT_LOG_DIR = Path("history") / "runs"
INIT_LOCK = ".pipeline-init.lock"
DEFAULT_CONFIG = (
    "# The pipeline's Dagster instance: Dagster's default SQLite storage in this folder.\n"
    "# Add settings here to change it (the CLI then uses them as they are).\n"
)
INIT_LOCK_TIMEOUT_SECONDS = 120.0


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log, with one pooled connection per shard instead of one per event."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: Any, config_value: dict[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = sqlalchemy.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                # Dagster's schema set-up inspects through a second connection.
                pool_size=2,
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            sqlalchemy.event.listen(engine, "connect", _synchronous_normal)
            self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # As the stock method (same lock, same one-transaction-per-use), minus the engine churn.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


def _synchronous_normal(connection: sqlite3.Connection, _record: object) -> None:
    connection.execute("PRAGMA synchronous=NORMAL")


@contextmanager
def persistent_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    """The instance kept in `home`, as `dg dev` with `DAGSTER_HOME=home` will open it."""
    home.mkdir(parents=True, exist_ok=True)
    # Two runs starting at once would both create the SQLite schema of a new folder, and
    # Dagster's run storage fails on the loser ("table alembic_version already exists").
    with FileLock(home / INIT_LOCK, timeout=INIT_LOCK_TIMEOUT_SECONDS):
        config = home / "dagster.yaml"
        if not config.exists():
            # An explicit (empty) configuration: Dagster's defaults, without the warning `dg dev`
            # prints about a folder that has none.
            config.write_text(DEFAULT_CONFIG, encoding="utf-8")
        if yaml.safe_load(config.read_text(encoding="utf-8")):
            instance = dg.DagsterInstance.from_config(str(home))  # configured: used as is
        else:
            ref = InstanceRef.from_dir(
                str(home),
                overrides={
                    "event_log_storage": {
                        "module": __name__,
                        "class": PooledSqliteEventLogStorage.__name__,
                        "config": {"base_dir": str(home / EVENT_LOG_DIR)},
                    }
                },
            )
            instance = dg.DagsterInstance.from_ref(ref)
    with instance:
        yield instance
