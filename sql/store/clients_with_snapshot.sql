-- Clients whose slot is already complete: a re-run polls only the others.
select client_number
from balance_snapshots
where slot_start = $slot_start;
