-- Offending rows: slots of the last day before $now (the slot in progress, younger than
-- $max_age_seconds / 2, excepted: its shards may still be polling) in which some client that
-- should have been asked was not: a shard missed its run.
select slot_start, clients_expected, clients_attempted, clients_missing
from slot_completeness
where not is_complete
    and slot_start >= $now::timestamptz - interval 1 day
    and slot_start < $now::timestamptz - to_seconds($max_age_seconds::double / 2)
order by slot_start;
