-- house_totals of the period, per base currency, currency and slot (oldest first).
select
    slot_start,
    base_currency,
    currency,
    client_count,
    total_balance,
    total_cash,
    total_locked,
    total_negative_balance,
    total_value_base
from house_totals
order by base_currency, currency, slot_start;
