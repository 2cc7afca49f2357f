-- Offending rows: a raw_id (a content hash) stored more than once. No index refuses one
-- (sql/ddl/001_tables.sql): the landing's anti-join keeps them apart, this proves it did.
select raw_id, min(client_number) as client_number, slot_start, count(*) as copies
from raw_responses
group by raw_id, slot_start
having count(*) > 1
order by slot_start, raw_id;
