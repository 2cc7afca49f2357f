-- house_totals: per slot, currency and base currency, the sums over the clients that answered
-- with balances in that slot (clients not observed in a slot are not carried into it).
create or replace view house_totals as
with lines as (
    select slot_start, currency, base_currency, client_number, balance, cash, locked, value_base
    from balance_lines
),

final as (
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
)

select * from final;
