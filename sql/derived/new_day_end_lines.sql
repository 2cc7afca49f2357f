-- Lines of an observed snapshot whose next observation (recomputed, it owns them) falls on a
-- later UTC day: the snapshot is its client's last of its day and of every day until that
-- next one (carried), one row per such day. UTC days by epoch arithmetic.
create or replace temp table derived_new_day_end_lines as
with day_ends as (
    select
        *,
        epoch_us(slot_start) // 86400000000 as first_day,
        epoch_us(next_observed_slot) // 86400000000 as end_day
    from derived_window_lines
    where is_observed
      and next_observed_slot is not null
      and (tail_slot is null or next_observed_slot > tail_slot)
)

select
    client_number,
    date '1970-01-01' + unnest(range(first_day, end_day))::integer as day,
    slot_start,
    next_observed_slot as next_slot_start,
    currency,
    base_currency,
    balance,
    cash,
    locked,
    value_base
from day_ends
where end_day > first_day;
