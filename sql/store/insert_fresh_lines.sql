-- Lines of the fresh snapshots only: the batch repeats (client, slot)s already stored.
insert into balance_lines by name
select l.*
from incoming_lines as l
semi join fresh_snapshots as f
    on f.client_number = l.client_number
   and f.slot_start = l.slot_start;
