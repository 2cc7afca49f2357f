-- Offending rows: (client_number, slot_start, currency) held by more than one line.
select client_number, slot_start, currency, count(*) as copies
from balance_lines
group by client_number, slot_start, currency
having count(*) > 1
order by slot_start, client_number, currency;
