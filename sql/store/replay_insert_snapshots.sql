insert into balance_snapshots by name
select f.*
from replay_snapshots as f
semi join replay_snapshot_changes as c
    on c.client_number = f.client_number
   and c.slot_start = f.slot_start
   and c.change in ('inserted', 'updated');
