"""One writer at a time: a run lock beside the DuckDB file.

DuckDB refuses a second writing process with an IOException mid-run; taking this lock first
makes a second `pipeline run` wait for the first (up to a timeout) and then find the slot
complete, or fail with one clear line. The lock is an OS file lock (flock), so a run killed
with SIGKILL releases it with its process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from pipeline.settings import DEFAULT_LOCK_TIMEOUT_SECONDS, LAKE_URL_PREFIX

log = logging.getLogger(__name__)


class RunLocked(RuntimeError):
    """Another run holds the database's lock for longer than we were willing to wait."""


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def run_lock(
    db_path: Path, *, timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
) -> Iterator[None]:
    """Hold the database's run lock for the block; wait up to `timeout_seconds` for it.

    Raises:
        RunLocked: another run kept the lock for the whole timeout.
    """
    if str(db_path).startswith(LAKE_URL_PREFIX):
        # A DuckLake admits many writers (shards on one host included): nothing to queue for.
        yield
        return
    path = lock_path_for(Path(db_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    # A singleton per path makes the lock re-entrant in one process: the CLI holds it for the
    # whole run while the assets, checks and replay it launches take it again around each write.
    lock = FileLock(str(path), thread_local=False, is_singleton=True)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("another run is writing %s; waiting up to %g s", db_path, timeout_seconds)
        try:
            lock.acquire(timeout=timeout_seconds)
        except Timeout:
            raise RunLocked(
                f"another pipeline run is writing {db_path} (lock {path}); gave up after "
                f"{timeout_seconds:g} s: retry when it has finished, or raise "
                "PIPELINE_LOCK_TIMEOUT_SECONDS"
            ) from None
    try:
        yield
    finally:
        lock.release()
