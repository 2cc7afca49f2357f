-- fx_rate_outliers of the period, newest first.
select
    slot_start,
    client_number,
    currency,
    base_currency,
    balance,
    value_base,
    implied_rate,
    median_rate,
    relative_deviation,
    value_deviation
from fx_rate_outliers
order by slot_start desc, client_number, currency;
