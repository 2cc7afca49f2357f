-- Offending rows: lines valued at a rate that the 2-decimal rounding of Value cannot explain.
select slot_start, client_number, currency, base_currency, balance, value_base, implied_rate,
    median_rate, relative_deviation, value_deviation
from fx_rate_outliers
order by slot_start, client_number, currency;
