-- Incoming snapshots whose (client, slot) is not stored yet; only these and their lines land.
create or replace temp table fresh_snapshots as
select i.*
from incoming_snapshots as i
where not exists (
    select 1
    from balance_snapshots as s
    where s.client_number = i.client_number
      and s.slot_start = i.slot_start
);
