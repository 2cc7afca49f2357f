-- The running state each (client, currency) of a refresh carries in: the stored row at the
-- client's base observation (present or vanished there), else, for a currency that returns
-- after an absence, only the interval and episode counters of its last stored row.
create or replace temp table derived_base_line_state as
with at_base as (
    select d.*
    from derived_line_pairs as d
    join derived_scope as k
        on k.client_number = d.client_number and k.base_observed_slot = d.slot_start
),

window_keys as (
    select distinct client_number, currency
    from derived_window_lines
    where in_range and is_observed
),

missing as (
    select w.client_number, w.currency
    from window_keys as w
    anti join at_base as b on b.client_number = w.client_number and b.currency = w.currency
),

older as (
    select
        d.client_number,
        d.currency,
        max(d.interval_number) as interval_number,
        max(d.episode_number) as episode_number
    from derived_line_pairs as d
    semi join missing as m on m.client_number = d.client_number and m.currency = d.currency
    where d.slot_start < $from
    group by d.client_number, d.currency
)

select
    client_number,
    currency,
    interval_number,
    interval_start,
    interval_observed,
    episode_number,
    episode_start,
    episode_locked_slots,
    episode_peak,
    plateau_slots,
    episode_longest_plateau
from at_base
union all
select
    client_number,
    currency,
    interval_number,
    null,
    null,
    episode_number,
    null,
    null,
    null,
    null,
    null
from older;
