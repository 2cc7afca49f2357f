-- Answers per slot in a selection: sizes the progress bar and cuts the export into batches of
-- whole slots, so sorting never needs more than one batch in memory.
select slot_start, count(*) as row_count
from raw_responses
where ($from::timestamptz is null or slot_start >= $from::timestamptz)
  and ($to::timestamptz is null or slot_start < $to::timestamptz)
  and ($client_lo::bigint is null
       or client_number between $client_lo::bigint and $client_hi::bigint)
group by slot_start
order by slot_start;
