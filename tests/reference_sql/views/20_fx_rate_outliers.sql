-- fx_rate_outliers: lines whose implied rate differs from the slot's median (implied_fx_rates)
-- by more than the 2-decimal rounding of Value can explain. Value is rounded to ±0.005, so a
-- line's rate is only known to ±0.005/|balance| (allowed_deviation); 1e-5 of the median is
-- added for the median's own rounding. Dust (0.00000001 BTC worth 0.00) therefore never counts.
-- value_deviation is what the line's value differs from balance × median, in the base currency.
create or replace view fx_rate_outliers as
with lines as (
    select client_number, slot_start, currency, base_currency, balance, value_base, implied_rate
    from balance_lines
    where implied_rate is not null and balance <> 0
),

rates as (
    select slot_start, currency, base_currency, median_rate, client_count
    from implied_fx_rates
),

compared as (
    select
        l.*,
        r.median_rate,
        r.client_count,
        l.implied_rate - r.median_rate as deviation,
        0.005 / abs(l.balance::double) + 1e-5 * abs(r.median_rate) as allowed_deviation
    from lines as l
    join rates as r
        on r.slot_start = l.slot_start
        and r.currency = l.currency
        and r.base_currency is not distinct from l.base_currency
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
        deviation / median_rate as relative_deviation,
        allowed_deviation,
        (value_base - round(balance::double * median_rate, 2)::decimal(38, 2))::decimal(38, 2)
            as value_deviation,
        client_count
    from compared
    where abs(deviation) > allowed_deviation
)

select * from final;
