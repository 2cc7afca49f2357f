-- Compaction of derived_client_tail, step 1: of the period's rows keep, per client, the newest
-- (its newest snapshot) and the one with the newest observed snapshot; older rows of the
-- period can never be a client's current state again.
create or replace temp table derived_compact as
with period as (
    select *
    from derived_client_tail
    where slot_start >= $from and slot_start < $to
),

newest as (
    select
        client_number,
        max(slot_start) as slot_start,
        max(observed_slot_start) as observed_slot_start
    from period
    group by client_number
)

select p.*
from period as p
join newest as n on n.client_number = p.client_number
where p.slot_start = n.slot_start or p.observed_slot_start = n.observed_slot_start;
