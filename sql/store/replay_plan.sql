-- Rows per slot that a replay of the selection reads or may remove: it is cut into batches of
-- whole slots from these counts.
with per_slot as (
    select slot_start, count(*) as row_count
    from raw_responses
    where ($from::timestamptz is null or slot_start >= $from::timestamptz)
      and ($to::timestamptz is null or slot_start < $to::timestamptz)
      and ($client_lo::bigint is null
           or client_number between $client_lo::bigint and $client_hi::bigint)
    group by slot_start
    union all
    select slot_start, count(*)
    from balance_snapshots
    where ($from::timestamptz is null or slot_start >= $from::timestamptz)
      and ($to::timestamptz is null or slot_start < $to::timestamptz)
      and ($client_lo::bigint is null
           or client_number between $client_lo::bigint and $client_hi::bigint)
    group by slot_start
)
select slot_start, sum(row_count)::bigint as row_count
from per_slot
group by slot_start
order by slot_start;
