-- Per client: attempts, successes, failures, the last success and the last failure with its
-- error. Clients with failures first.
-- param: failing_only BOOLEAN = false  only clients with at least one failure
select client_number, attempts, successes, failures, success_share, last_success_at,
    last_failure_at, last_failure_outcome, last_error
from fetch_health
where not $failing_only or failures > 0
order by failures desc, client_number;
