-- Bench data: $copies copies of the generated answers in `seed_raw`, copy k shifted by k whole
-- days of slots (a broker polling the same book day after day). raw_id is a content key.
insert into raw_responses
select
    md5(concat_ws('|', s.client_number, s.slot_start + to_days(c.k::integer), s.body)) as raw_id,
    s.client_number,
    s.slot_start + to_days(c.k::integer) as slot_start,
    s.slot_start + to_days(c.k::integer) + interval 1 second as observed_at,
    200 as http_status,
    s.body,
    'utf-8' as body_encoding,
    octet_length(encode(s.body)) as body_size,
    false as body_truncated
from seed_raw as s
cross join range($copies) as c(k);
