"""Maintenance: closed periods rewritten clustered by client, a lake's files merged and expired.

Rounds append slot after slot, so without it one client's rows sit in every row group (and, on
a lake, in every small file a write session left). Each closed period is rewritten once, in
its own transaction, under the ingest lock a lake's shards take to append snapshots; what
concurrent rounds append to on a lake (raw answers, attempts) is left in arrival order, since a
rewrite beside their inserts would not commit. Nothing here changes a view's result.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.store.derived import compact_range, compaction_periods
from pipeline.store.lake import current_catalog
from pipeline.store.sqlfiles import load_sql
from pipeline.store.store import Store

Period = tuple[datetime, datetime]
# On a lake, concurrent rounds insert into these while maintenance runs.
_APPENDED_BY_ROUNDS = ("fetch_attempts", "raw_responses")


def due_periods(store: Store) -> list[Period]:
    """Closed periods (compaction_periods) not yet compacted, oldest first."""
    first, newest = store._run("maintenance/history_bounds").fetchall()[0]
    if first is None:
        return []
    done = {tuple(row) for row in store._run("maintenance/compacted_periods").fetchall()}
    return [period for period in compaction_periods(first, newest) if period not in done]


def compact_period(store: Store, period: Period, *, lake: bool) -> None:
    """Rewrite one period clustered by client and record it, in one transaction."""
    start, end = period
    with store.ingest_lock(), store.transaction():
        compact_range(store.con, start, end, skip=_APPENDED_BY_ROUNDS if lake else ())
        store._run(
            "maintenance/record_compaction", {"from": start, "to": end, "at": datetime.now(UTC)}
        )


def tidy_lake(store: Store, *, keep_days: int) -> None:
    """Merge a lake's small files, expire snapshots older than `keep_days`, delete freed files."""
    # The catalog alias is an identifier (it cannot be bound); it comes from the attached lake.
    catalog = "'" + current_catalog(store.con).replace("'", "''") + "'"
    for step in ("lake_merge_files", "lake_expire_snapshots", "lake_cleanup_files"):
        sql = load_sql(f"maintenance/{step}").format(catalog=catalog)
        params = {"keep_days": keep_days} if "$keep_days" in sql else {}
        store.con.execute(sql, params)
