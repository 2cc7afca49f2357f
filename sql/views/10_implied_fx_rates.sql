-- implied_fx_rates: per slot, currency and base currency, the median, min and max implied rate
-- (value_base / balance) over the clients holding it, and how many clients that is. Lines whose
-- value rounds to 0.00 (dust) say nothing about the rate and are left out.
-- Read from derived_slot_totals (computed per slot when its lines are written).
create or replace view implied_fx_rates as
with rates as (
    select * from derived_slot_totals
    where rate_client_count > 0
),

final as (
    select
        slot_start,
        currency,
        base_currency,
        median_rate,
        min_rate,
        max_rate,
        rate_client_count as client_count
    from rates
)

select * from final;
