-- Lines of [$from, $to) whose implied rate differs from their slot's median (derived_slot_stats)
-- by more than the 2-decimal rounding of Value can explain: the rows of fx_rate_outliers.
create or replace temp table derived_new_fx_rate_outliers as
with lines as (
    select slot_start, client_number, currency, base_currency, balance, value_base, implied_rate
    from balance_lines
    where slot_start >= $from and slot_start < $to
      and implied_rate is not null and balance <> 0
),

compared as (
    select
        l.slot_start,
        l.client_number,
        l.currency,
        l.base_currency,
        l.balance,
        l.value_base,
        l.implied_rate,
        r.median_rate,
        r.rate_client_count as client_count,
        l.implied_rate - r.median_rate as deviation,
        0.005 / abs(l.balance::double) + 1e-5 * abs(r.median_rate) as allowed_deviation
    from lines as l
    join derived_slot_stats as r
        on r.slot_start = l.slot_start
        and r.currency = l.currency
        and r.base_currency is not distinct from l.base_currency
    where r.rate_client_count > 0
)

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
where abs(deviation) > allowed_deviation;
