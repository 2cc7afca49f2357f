-- client_latest: one client's balances in its newest observed snapshot of the period.
select slot_start, currency, base_currency, balance, cash, locked, value_base, implied_rate
from latest_balances
where client_number = $client
order by currency;
