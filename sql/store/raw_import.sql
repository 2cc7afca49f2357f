-- Append imported answers. raw_id is a content hash: an answer already stored is skipped.
insert into raw_responses by name
select * from imported_raw
on conflict do nothing;
