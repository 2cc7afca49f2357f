-- Land received bodies. raw_id is a content hash: landing the same answer twice is a no-op.
insert into raw_responses by name
select * from incoming_raw
on conflict do nothing;
