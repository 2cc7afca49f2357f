-- Compaction, step 1: copy {table}'s rows of the closed period [$from, $to) aside.
create or replace temp table derived_compact as
select * from {table}
where {slot} >= $from and {slot} < $to;
