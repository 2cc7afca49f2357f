-- The first and the newest slot holding a snapshot: the span compaction periods are cut from.
select min(slot_start) as first_slot, max(slot_start) as newest_slot
from balance_snapshots;
