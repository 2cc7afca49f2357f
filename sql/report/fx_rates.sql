-- implied_fx_rates of the period for foreign currencies (a base currency's own rate is 1).
select slot_start, base_currency, currency, median_rate, min_rate, max_rate, client_count
from implied_fx_rates
where currency is distinct from base_currency
order by base_currency, currency, slot_start;
