"""DuckDB storage of the data contract: raw landing, attempts, snapshots and lines."""

from pipeline.store.database import (
    Database,
    DatabaseBusy,
    DatabaseMissing,
    connect,
    open_store,
    require_database,
)
from pipeline.store.store import LandingBatch, Store, landing_batch, raw_id_for

__all__ = [
    "Database",
    "DatabaseBusy",
    "DatabaseMissing",
    "LandingBatch",
    "Store",
    "connect",
    "landing_batch",
    "open_store",
    "raw_id_for",
    "require_database",
]
