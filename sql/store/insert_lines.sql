-- A batch whose snapshots were all fresh (none of its (client, slot)s stored before): every one
-- of its lines lands, with no semi join against fresh_snapshots (insert_fresh_lines.sql), which
-- cost 1.3 s per million lines.
insert into balance_lines by name
select * from incoming_lines;
