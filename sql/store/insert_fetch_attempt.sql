insert into fetch_attempts
    (run_id, slot_start, client_number, attempt, requested_at, duration_ms, http_status,
     response_code, outcome, error, raw_id)
values
    ($run_id, $slot_start, $client_number, $attempt, $requested_at, $duration_ms, $http_status,
     $response_code, $outcome, $error, $raw_id)
on conflict do nothing;
