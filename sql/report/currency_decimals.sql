-- currency_decimals: per currency, the fewest decimals (2 to 8) that show every balance and cash
-- amount of the period exactly, so a currency's amounts line up with one fixed number of decimals.
select
    currency,
    case
        when bool_and(balance = round(balance, 2) and cash = round(cash, 2)) then 2
        when bool_and(balance = round(balance, 3) and cash = round(cash, 3)) then 3
        when bool_and(balance = round(balance, 4) and cash = round(cash, 4)) then 4
        when bool_and(balance = round(balance, 5) and cash = round(cash, 5)) then 5
        when bool_and(balance = round(balance, 6) and cash = round(cash, 6)) then 6
        when bool_and(balance = round(balance, 7) and cash = round(cash, 7)) then 7
        else 8
    end as decimals
from balance_lines
group by currency
order by currency;
