-- Bodies of one replay batch that may hold a balance envelope: the filter of pending_raw.sql
-- (ingest) without its "no snapshot yet" clause, because a replay recomputes what is stored.
-- Which body wins a (client, slot) is decided by normalize_raw, as in ingest.
select raw_id, client_number, slot_start, observed_at, body
from raw_responses
where slot_start >= $from
  and slot_start < $to
  and ($client_lo::bigint is null
       or client_number between $client_lo::bigint and $client_hi::bigint)
  and http_status = 200
  and body_encoding = 'utf-8'
  and not body_truncated
order by client_number, slot_start, observed_at, raw_id;
