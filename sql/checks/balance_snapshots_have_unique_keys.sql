-- Offending rows: (client_number, slot_start) held by more than one snapshot.
select client_number, slot_start, count(*) as copies
from balance_snapshots
group by client_number, slot_start
having count(*) > 1
order by slot_start, client_number;
