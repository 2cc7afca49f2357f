-- Rows per client that a replay batch of [$from, $to) reads or may remove (raw answers and
-- stored snapshots), in client order: a compacted period is cut into batches of client ranges
-- from these counts, because its row groups hold clients, not slots.
with per_client as (
    select client_number, count(*) as row_count
    from raw_responses
    where slot_start >= $from and slot_start < $to
    group by client_number
    union all
    select client_number, count(*)
    from balance_snapshots
    where slot_start >= $from and slot_start < $to
    group by client_number
)
select client_number, sum(row_count)::bigint as row_count
from per_client
group by client_number
order by client_number;
