-- Every client's newest observed balances (or one client's), with value and lock.
-- param: client_number BIGINT = 0  one client only (0: every client)
select client_number, currency, slot_start, base_currency, balance, cash, locked, value_base,
    implied_rate
from latest_balances
where $client_number = 0 or client_number = $client_number
order by client_number, currency;
