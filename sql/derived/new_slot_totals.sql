-- derived_slot_totals rows of [$from, $to): the slot statistics with their outlier counts.
create or replace temp table derived_new_slot_totals as
with outliers as (
    select slot_start, currency, base_currency, count(*) as outliers
    from derived_new_fx_rate_outliers
    group by all
)

select
    s.slot_start,
    s.currency,
    s.base_currency,
    s.client_count,
    s.total_balance,
    s.total_cash,
    s.total_locked,
    s.total_value_base,
    s.total_negative_balance,
    s.rate_client_count,
    s.median_rate,
    s.min_rate,
    s.max_rate,
    coalesce(o.outliers, 0) as outliers
from derived_slot_stats as s
left join outliers as o
    on o.slot_start = s.slot_start
    and o.currency = s.currency
    and o.base_currency is not distinct from s.base_currency;
