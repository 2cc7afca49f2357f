-- value_attribution: per client, currency and pair of consecutive observed snapshots, the change
-- in value (base currency) split into
--   quantity_effect = Δbalance × previous rate (deposits, withdrawals, trades),
--   fx_effect       = current balance × Δrate (the market),
--   residual        = Δvalue − quantity_effect − fx_effect (the 2-decimal rounding of Value).
-- The two effects are rounded to cents from the DOUBLE implied rates; the residual is exact
-- DECIMAL arithmetic, so the three sum exactly to value_change. A currency that appears is all
-- quantity at its new rate; one that vanishes is all quantity at its last rate.
create or replace view value_attribution as
with pairs as (
    select
        *,
        coalesce(prev_rate, rate, 0) as rate_before,
        coalesce(rate, prev_rate, 0) as rate_after
    from balance_line_pairs
),

effects as (
    select
        *,
        value_base - prev_value_base as value_change,
        round((balance - prev_balance)::double * rate_before, 2)::decimal(38, 2)
            as quantity_effect,
        round(balance::double * (rate_after - rate_before), 2)::decimal(38, 2) as fx_effect
    from pairs
),

final as (
    select
        client_number,
        currency,
        prev_slot_start,
        slot_start,
        base_currency,
        prev_balance,
        balance,
        prev_rate,
        rate,
        prev_value_base,
        value_base,
        value_change,
        quantity_effect,
        fx_effect,
        (value_change - quantity_effect - fx_effect)::decimal(38, 2) as residual
    from effects
)

select * from final;
