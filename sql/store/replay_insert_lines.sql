insert into balance_lines by name
select f.*
from replay_lines as f
semi join replay_line_changes as c
    on c.client_number = f.client_number
   and c.slot_start = f.slot_start
   and c.currency = f.currency
   and c.change in ('inserted', 'updated');
