-- first_seen / last_seen follow the snapshots: min/max make a replay leave them unchanged.
insert into clients (client_number, label, first_seen, last_seen)
select client_number, null, min(slot_start), max(slot_start)
from fresh_snapshots
group by client_number
on conflict (client_number) do update
    set first_seen = least(clients.first_seen, excluded.first_seen),
        last_seen = greatest(clients.last_seen, excluded.last_seen);
