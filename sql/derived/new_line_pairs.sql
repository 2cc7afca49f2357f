-- The pairs of the recomputed observations: every currency of an observed snapshot and of the
-- client's previous observed one (gone from Data: vanished, zeros; new: appeared), with the
-- change's value attribution and the flags that start or end balance intervals, lock episodes
-- and lock plateaus (runs of one locked amount). seq: the client's observed ordinal. A view:
-- its rows are written once (derived_line_pairs); only the sparse events are kept aside.
create or replace temp view derived_pairs as
with current_side as (
    select
        client_number, currency, slot_start, prev_observed_slot as prev_slot_start,
        base_currency, balance, cash, locked, value_base, implied_rate, observed_seq
    from derived_window_lines
    where in_range and is_observed
),

-- each observed line seen from the next observed snapshot of its client
previous_side as (
    select
        client_number, currency, next_observed_slot as slot_start, slot_start as prev_slot_start,
        base_currency, balance, cash, locked, value_base, implied_rate,
        observed_seq + 1 as observed_seq
    from derived_window_lines
    where is_observed
      and next_observed_slot is not null
      and (tail_slot is null or next_observed_slot > tail_slot)
),

pairs as (
    select
        coalesce(c.client_number, p.client_number) as client_number,
        coalesce(c.currency, p.currency) as currency,
        coalesce(c.slot_start, p.slot_start) as slot_start,
        coalesce(c.prev_slot_start, p.prev_slot_start) as prev_slot_start,
        coalesce(c.base_currency, p.base_currency) as base_currency,
        p.base_currency as prev_base_currency,
        coalesce(c.balance, 0)::decimal(38, 8) as balance,
        coalesce(p.balance, 0)::decimal(38, 8) as prev_balance,
        coalesce(c.cash, 0)::decimal(38, 8) as cash,
        coalesce(p.cash, 0)::decimal(38, 8) as prev_cash,
        coalesce(c.locked, 0)::decimal(38, 8) as locked,
        coalesce(p.locked, 0)::decimal(38, 8) as prev_locked,
        coalesce(c.value_base, 0)::decimal(38, 2) as value_base,
        coalesce(p.value_base, 0)::decimal(38, 2) as prev_value_base,
        c.implied_rate as rate,
        p.implied_rate as prev_rate,
        c.currency is null as vanished,
        p.currency is not null as prev_present,
        coalesce(c.observed_seq, p.observed_seq) as seq
    from current_side as c
    full join previous_side as p
        on p.client_number = c.client_number
        and p.currency = c.currency
        and p.slot_start = c.slot_start
),

flagged as (
    select
        *,
        prev_slot_start is not null as has_prev,
        prev_slot_start is not null and not prev_present as appeared,
        prev_slot_start is not null and (balance <> prev_balance or cash <> prev_cash) as changed,
        not vanished and locked <> 0 as is_locked,
        prev_present and prev_locked <> 0 as prev_is_locked
    from pairs
),

final as (
    select
        *,
        not vanished and (not prev_present or changed) as starts_interval,
        prev_present and (vanished or changed) as closes_interval,
        is_locked and not prev_is_locked as starts_episode,
        prev_is_locked and not is_locked as closes_episode,
        is_locked and (not prev_is_locked or prev_locked <> locked) as starts_plateau,
        -- value_attribution: Δbalance at the previous rate, the balance at the rate's change,
        -- and the rounding left over (exact DECIMAL), so the three sum to the value's change
        case when has_prev then
            round((balance - prev_balance)::double * coalesce(prev_rate, rate, 0), 2)
        end::decimal(38, 2) as quantity_effect,
        case when has_prev then
            round(
                balance::double * (coalesce(rate, prev_rate, 0) - coalesce(prev_rate, rate, 0)), 2
            )
        end::decimal(38, 2) as fx_effect
    from flagged
)

select
    *,
    (value_base - prev_value_base - quantity_effect - fx_effect)::decimal(38, 2) as residual
from final;
