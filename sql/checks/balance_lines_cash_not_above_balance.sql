-- Offending rows: lines with a positive balance and more cash than balance (a negative lock).
select client_number, slot_start, currency, balance, cash, locked
from balance_lines
where balance > 0 and cash > balance
order by slot_start, client_number, currency;
