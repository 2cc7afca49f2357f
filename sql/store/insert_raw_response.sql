-- Land one received body. raw_id is a content hash, so landing the same answer twice is a no-op.
insert into raw_responses
    (raw_id, client_number, slot_start, observed_at, http_status, body, body_encoding, body_size,
     body_truncated)
values
    ($raw_id, $client_number, $slot_start, $observed_at, $http_status, $body, $body_encoding,
     $body_size, $body_truncated)
on conflict do nothing;
