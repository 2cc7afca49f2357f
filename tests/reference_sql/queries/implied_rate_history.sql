-- One currency's implied rate over a time range: per slot the median, min and max implied rate
-- across clients, their count and how many of its lines are outliers.
-- param: currency VARCHAR  the currency, e.g. BTC
-- param: since TIMESTAMPTZ = 1970-01-01T00:00:00Z  first slot, inclusive
-- param: until TIMESTAMPTZ = 9999-12-31T00:00:00Z  last slot, exclusive
with rates as (
    select *
    from implied_fx_rates
    where currency = upper($currency)
        and slot_start >= $since
        and slot_start < $until
),

outliers as (
    select slot_start, base_currency, count(*) as outliers
    from fx_rate_outliers
    where currency = upper($currency)
        and slot_start >= $since
        and slot_start < $until
    group by all
),

final as (
    select
        r.slot_start,
        r.currency,
        r.base_currency,
        r.median_rate,
        r.min_rate,
        r.max_rate,
        r.client_count,
        coalesce(o.outliers, 0) as outliers
    from rates as r
    left join outliers as o
        on o.slot_start = r.slot_start and o.base_currency is not distinct from r.base_currency
)

select * from final
order by slot_start, base_currency;
