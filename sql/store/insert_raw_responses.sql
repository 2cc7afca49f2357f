-- Land received bodies. raw_id is a content hash: an answer already stored, or twice in the
-- batch, is skipped. An anti-join rather than ON CONFLICT, so it runs on a DuckLake too (no
-- keys there). The slot bounds let the scan skip every other slot's rows (zone maps in a file,
-- Parquet statistics in a lake) instead of reading all stored ids; the hash covers the slot.
insert into raw_responses by name
select i.*
from incoming_raw as i
where not exists (
    select 1
    from raw_responses as r
    where r.raw_id = i.raw_id
      and r.slot_start = i.slot_start
      and r.slot_start between (select min(slot_start) from incoming_raw)
                           and (select max(slot_start) from incoming_raw)
)
qualify row_number() over (partition by i.raw_id order by i.observed_at) = 1;
