-- value_attribution: per client, currency and pair of consecutive observed snapshots, the change
-- in value (base currency) split into
--   quantity_effect = Δbalance × previous rate (deposits, withdrawals, trades),
--   fx_effect       = current balance × Δrate (the market),
--   residual        = Δvalue − quantity_effect − fx_effect (the 2-decimal rounding of Value).
-- The two effects are rounded to cents from the DOUBLE implied rates; the residual is exact
-- DECIMAL arithmetic, so the three sum exactly to value_change. A currency that appears is all
-- quantity at its new rate; one that vanishes is all quantity at its last rate.
-- The effects are computed when the snapshot is written (derived_line_pairs).
create or replace view value_attribution as
with pairs as (
    select *
    from derived_line_pairs
    where prev_slot_start is not null
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
        value_base - prev_value_base as value_change,
        quantity_effect,
        fx_effect,
        residual
    from pairs
)

select * from final;
