-- Offending row: the newest slot with a snapshot is older than $max_age_seconds at $now (or there
-- is no snapshot at all).
with newest as (
    select max(slot_start) as newest_slot from balance_snapshots
)

select
    newest_slot,
    $now::timestamptz as checked_at,
    (epoch($now::timestamptz) - epoch(newest_slot)) / 3600 as age_hours,
    $max_age_seconds::double / 3600 as max_age_hours
from newest
where newest_slot is null
    or epoch($now::timestamptz) - epoch(newest_slot) > $max_age_seconds::double;
