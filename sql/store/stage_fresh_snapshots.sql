-- Incoming snapshots whose (client, slot) is not stored yet; only these and their lines land.
-- The slot bounds let the scan skip every other slot's rows (zone maps): balance_snapshots has
-- no index (sql/ddl/001_tables.sql), and this anti-join is what keeps its key unique.
create or replace temp table fresh_snapshots as
select i.*
from incoming_snapshots as i
where not exists (
    select 1
    from balance_snapshots as s
    where s.client_number = i.client_number
      and s.slot_start = i.slot_start
      and s.slot_start between (select min(slot_start) from incoming_snapshots)
                           and (select max(slot_start) from incoming_snapshots)
);
