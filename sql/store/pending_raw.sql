-- Received bodies in [$from, $to) that may hold a balance envelope and have no snapshot yet.
select r.raw_id, r.client_number, r.slot_start, r.observed_at, r.body
from raw_responses as r
where r.slot_start >= $from
  and r.slot_start < $to
  and r.http_status = 200
  and r.body_encoding = 'utf-8'
  and not r.body_truncated
  and not exists (
      select 1
      from balance_snapshots as s
      where s.client_number = r.client_number
        and s.slot_start = r.slot_start
        and s.slot_start >= $from
        and s.slot_start < $to
  )
order by r.client_number, r.slot_start, r.observed_at, r.raw_id;
