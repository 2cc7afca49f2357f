-- coverage_health: per client, how much of the schedule it was observed in (coverage) and how
-- its fetches went (fetch_health), side by side.
select
    coalesce(c.client_number, h.client_number) as client_number,
    l.label,
    c.scheduled_slots,
    c.observed_slots,
    c.balances_observed_slots,
    c.share_observed,
    c.longest_gap_slots,
    c.longest_gap_start,
    h.attempts,
    h.successes,
    h.failures,
    h.success_share,
    h.last_success_at,
    h.last_failure_at,
    h.last_failure_outcome,
    h.last_error
from coverage as c
full join fetch_health as h on h.client_number = c.client_number
left join clients as l on l.client_number = coalesce(c.client_number, h.client_number)
order by client_number;
