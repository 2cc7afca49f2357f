-- attribution: the change in value over the period per base and currency, split into quantity
-- (deposits, withdrawals, trades), FX (the market) and rounding; $client NULL: every client.
select
    base_currency,
    currency,
    count(distinct client_number) as clients,
    sum(value_change) as value_change,
    sum(quantity_effect) as quantity_effect,
    sum(fx_effect) as fx_effect,
    sum(residual) as residual
from value_attribution
where $client::bigint is null or client_number = $client::bigint
group by base_currency, currency
order by base_currency, currency;
