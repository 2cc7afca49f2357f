-- implied_fx_rates: per slot, currency and base currency, the median, min and max implied rate
-- (value_base / balance) over the clients holding it, and how many clients that is. Lines whose
-- value rounds to 0.00 (dust) say nothing about the rate and are left out.
create or replace view implied_fx_rates as
with lines as (
    select slot_start, currency, base_currency, client_number, implied_rate
    from balance_lines
    where implied_rate is not null and value_base <> 0
),

final as (
    select
        slot_start,
        currency,
        base_currency,
        median(implied_rate) as median_rate,
        min(implied_rate) as min_rate,
        max(implied_rate) as max_rate,
        count(distinct client_number) as client_count
    from lines
    group by slot_start, currency, base_currency
)

select * from final;
