-- The lines a refresh reads: those of the recomputed snapshots and of each client's base
-- observation (the previous side of the window's first pairs), with their snapshot's pointers.
create or replace temp table derived_window_lines as
select
    l.client_number,
    l.currency,
    l.slot_start,
    l.observed_at,
    l.base_currency,
    l.balance,
    l.cash,
    l.locked,
    l.value_base,
    l.implied_rate,
    w.is_observed,
    w.in_range,
    w.prev_observed_slot,
    w.next_observed_slot,
    w.tail_slot,
    w.observed_seq
from balance_lines as l
join derived_window_snapshots as w
    on w.client_number = l.client_number and w.slot_start = l.slot_start
where (w.in_range or w.slot_start = w.base_observed_slot)
  -- constants, so that the scan skips the row groups outside the windows
  and l.slot_start >= $lower
  and l.slot_start <= $until;
