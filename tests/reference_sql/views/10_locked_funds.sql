-- locked_funds: every line with a non-zero locked amount (balance − cash), with the locked share
-- of the balance and its value in the base currency at the line's implied rate (an estimate:
-- rounded to cents from the DOUBLE rate).
create or replace view locked_funds as
with lines as (
    select client_number, slot_start, currency, base_currency, balance, cash, locked,
        value_base, implied_rate
    from balance_lines
    where locked <> 0
),

final as (
    select
        client_number,
        slot_start,
        currency,
        base_currency,
        balance,
        cash,
        locked,
        case when balance <> 0 then locked::double / balance::double end as locked_share,
        round(locked::double * coalesce(implied_rate, 0), 2)::decimal(38, 2) as locked_value_base
    from lines
)

select * from final;
