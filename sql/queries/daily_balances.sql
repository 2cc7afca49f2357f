-- End-of-day (UTC) balances per client and currency for a range of days, carried forward over
-- days without an observation (is_carried).
-- param: since DATE = 1970-01-01  first day, inclusive
-- param: until DATE = 9999-12-31  last day, inclusive
-- param: client_number BIGINT = 0  one client only (0: every client)
select day, client_number, currency, base_currency, balance, cash, locked, value_base,
    as_of_slot_start, is_carried
from daily_balances
where day between $since and $until
    and ($client_number = 0 or client_number = $client_number)
order by day, client_number, currency;
