-- Record attempts; one per (run, slot, client, attempt): a re-landed batch adds nothing. An
-- anti-join rather than ON CONFLICT, so it runs on a DuckLake too (no keys there); the slot
-- bounds keep the scan to the batch's slots.
insert into fetch_attempts by name
select i.*
from incoming_attempts as i
where not exists (
    select 1
    from fetch_attempts as a
    where a.run_id = i.run_id
      and a.slot_start = i.slot_start
      and a.client_number = i.client_number
      and a.attempt = i.attempt
      and a.slot_start between (select min(slot_start) from incoming_attempts)
                           and (select max(slot_start) from incoming_attempts)
)
qualify row_number() over (
    partition by i.run_id, i.slot_start, i.client_number, i.attempt order by i.requested_at
) = 1;
