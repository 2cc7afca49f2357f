-- Compaction of derived_line_tail, step 1: of the period's rows keep, per client, the lines of
-- its newest observed snapshot in the period.
create or replace temp table derived_compact as
select *
from derived_line_tail
where slot_start >= $from and slot_start < $to
qualify slot_start = max(slot_start) over (partition by client_number);
