-- House exposure per currency over time: what all clients together hold (the house owes) in
-- each currency per slot, with cash, locked, debts and the value in the base currency.
-- param: currency VARCHAR = %  a currency, or a LIKE pattern (default: all)
-- param: since TIMESTAMPTZ = 1970-01-01T00:00:00Z  first slot, inclusive
-- param: until TIMESTAMPTZ = 9999-12-31T00:00:00Z  last slot, exclusive
with totals as (
    select *
    from house_totals
    where currency like upper($currency)
        and slot_start >= $since
        and slot_start < $until
),

final as (
    select
        slot_start,
        currency,
        base_currency,
        client_count,
        total_balance,
        total_cash,
        total_locked,
        total_negative_balance,
        total_value_base
    from totals
)

select * from final
order by slot_start, currency, base_currency;
