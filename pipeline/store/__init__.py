"""DuckDB storage of the data contract: raw landing, attempts, snapshots and lines."""

from pipeline.store.database import connect, open_store
from pipeline.store.store import Store, raw_id_for

__all__ = ["Store", "connect", "open_store", "raw_id_for"]
