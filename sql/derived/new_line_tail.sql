-- The lines, with their running interval and lock state, of each client's newest recomputed
-- observed snapshot (derived_new_client_tail).
create or replace temp table derived_new_line_tail as
select
    p.client_number,
    p.currency,
    p.slot_start,
    l.observed_at,
    l.base_currency,
    l.balance,
    l.cash,
    l.locked,
    l.value_base,
    l.implied_rate,
    p.interval_number,
    p.interval_start,
    p.interval_observed,
    p.episode_number,
    p.episode_start,
    p.episode_locked_slots,
    p.episode_peak,
    p.episode_longest_plateau
from derived_new_line_pairs as p
join derived_new_client_tail as t
    on t.client_number = p.client_number and t.observed_slot_start = p.slot_start
join derived_window_lines as l
    on l.client_number = p.client_number
    and l.slot_start = p.slot_start
    and l.currency = p.currency
where not p.vanished;
