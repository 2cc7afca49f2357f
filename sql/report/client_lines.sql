-- client_lines: one client's lines in the period, with the base-currency value of its cash and of
-- its locked part at the line's own valuation (value_base × cash / balance; a picture, not money).
select
    slot_start,
    currency,
    base_currency,
    balance,
    cash,
    locked,
    value_base,
    case when balance <> 0 then value_base::double * cash::double / balance::double else 0 end
        as cash_value,
    case when balance <> 0 then value_base::double * locked::double / balance::double else 0 end
        as locked_value
from balance_lines
where client_number = $client
order by slot_start, currency;
