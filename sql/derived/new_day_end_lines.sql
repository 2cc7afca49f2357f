-- Lines of an observed snapshot whose next observation (recomputed, it owns them) falls on a
-- later UTC day: the snapshot is its client's last of that day, an as-of of daily_balances.
create or replace temp table derived_new_day_end_lines as
select
    client_number,
    slot_start,
    next_observed_slot as next_slot_start,
    currency,
    base_currency,
    balance,
    cash,
    locked,
    value_base
from derived_window_lines
where is_observed
  and next_observed_slot is not null
  and (tail_slot is null or next_observed_slot > tail_slot)
  and epoch_us(next_observed_slot) // 86400000000 > epoch_us(slot_start) // 86400000000;
