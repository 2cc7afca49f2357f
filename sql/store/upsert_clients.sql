-- Register polled clients and widen their first_seen/last_seen to this slot.
insert into clients (client_number, label, first_seen, last_seen)
select client_number, label, seen_at, seen_at
from incoming_clients
on conflict (client_number) do update
    set label = coalesce(excluded.label, clients.label),
        first_seen = least(clients.first_seen, excluded.first_seen),
        last_seen = greatest(clients.last_seen, excluded.last_seen);
