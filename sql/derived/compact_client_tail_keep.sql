-- Compaction of derived_client_tail, step 1: of the period's rows keep each client's newest; an
-- older one of the period can never be a client's current state or a refresh's start again.
create or replace temp table derived_compact as
select *
from derived_client_tail
where slot_start >= $from and slot_start < $to
qualify slot_start = max(slot_start) over (partition by client_number);
