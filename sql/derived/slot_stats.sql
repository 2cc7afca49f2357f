-- Per slot of [$from, $to), currency and base currency: the house totals over the clients that
-- answered and the implied-rate statistics (lines with a rate and a value not rounded to 0.00).
create or replace temp table derived_slot_stats as
with lines as (
    select slot_start, currency, base_currency, client_number, balance, cash, locked,
        value_base, implied_rate
    from balance_lines
    where slot_start >= $from and slot_start < $to
),

totals as (
    select
        slot_start,
        currency,
        base_currency,
        count(distinct client_number) as client_count,
        sum(balance) as total_balance,
        sum(cash) as total_cash,
        sum(locked) as total_locked,
        sum(value_base) as total_value_base,
        coalesce(sum(balance) filter (where balance < 0), 0) as total_negative_balance
    from lines
    group by slot_start, currency, base_currency
),

rates as (
    select
        slot_start,
        currency,
        base_currency,
        median(implied_rate) as median_rate,
        min(implied_rate) as min_rate,
        max(implied_rate) as max_rate,
        count(distinct client_number) as rate_client_count
    from lines
    where implied_rate is not null and value_base <> 0
    group by slot_start, currency, base_currency
)

select
    t.*,
    coalesce(r.rate_client_count, 0) as rate_client_count,
    r.median_rate,
    r.min_rate,
    r.max_rate
from totals as t
left join rates as r
    on r.slot_start = t.slot_start
    and r.currency = t.currency
    and r.base_currency is not distinct from t.base_currency;
