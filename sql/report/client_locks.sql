-- client_locks: one client's locked episodes in the period (newest first).
select
    currency,
    episode_start,
    episode_end,
    duration_hours,
    peak_locked,
    last_locked,
    locked_slots,
    longest_unchanged_slots,
    is_stuck
from locked_episodes
where client_number = $client
order by episode_start desc, currency;
