-- Compaction of derived_line_tail, step 1: keep the currencies of the client tails kept.
create or replace temp table derived_compact as
select *
from derived_line_tail
where tail_slot >= $from and tail_slot < $to
qualify tail_slot = max(tail_slot) over (partition by client_number);
