-- Append imported answers. raw_id is a content hash: an answer already stored, or twice in the
-- import, is skipped. An anti-join rather than ON CONFLICT, so it runs on a DuckLake too; the
-- slot bounds keep the scan to the imported slots (see insert_raw_responses.sql).
insert into raw_responses by name
select i.*
from imported_raw as i
where not exists (
    select 1
    from raw_responses as r
    where r.raw_id = i.raw_id
      and r.slot_start = i.slot_start
      and r.slot_start between (select min(slot_start) from imported_raw)
                           and (select max(slot_start) from imported_raw)
)
qualify row_number() over (partition by i.raw_id order by i.observed_at) = 1;
