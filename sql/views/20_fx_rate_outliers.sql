-- fx_rate_outliers: lines whose implied rate differs from the slot's median (implied_fx_rates)
-- by more than the 2-decimal rounding of Value can explain. Value is rounded to ±0.005, so a
-- line's rate is only known to ±0.005/|balance| (allowed_deviation); 1e-5 of the median is
-- added for the median's own rounding. Dust (0.00000001 BTC worth 0.00) therefore never counts.
-- value_deviation is what the line's value differs from balance × median, in the base currency.
-- Read from derived_fx_rate_outliers (computed per slot when its lines are written).
create or replace view fx_rate_outliers as
with outliers as (
    select * from derived_fx_rate_outliers
),

final as (
    select
        slot_start,
        client_number,
        currency,
        base_currency,
        balance,
        value_base,
        implied_rate,
        median_rate,
        deviation,
        relative_deviation,
        allowed_deviation,
        value_deviation,
        client_count
    from outliers
)

select * from final;
