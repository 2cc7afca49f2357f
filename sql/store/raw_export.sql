-- Received answers of one export batch (whole slots) in archive order, instants as ISO-8601
-- UTC text with microseconds (raw_id hashes the instants: an import must get them back exactly).
select
    raw_id,
    client_number,
    strftime(slot_start at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') as slot_start,
    strftime(observed_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') as observed_at,
    http_status,
    body,
    body_encoding,
    body_size,
    body_truncated
from raw_responses
where ($from::timestamptz is null or slot_start >= $from::timestamptz)
  and ($to::timestamptz is null or slot_start < $to::timestamptz)
  and ($client_lo::bigint is null
       or client_number between $client_lo::bigint and $client_hi::bigint)
order by slot_start, client_number, observed_at, raw_id;
