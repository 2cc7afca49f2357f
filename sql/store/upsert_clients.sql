-- Register polled clients and widen their first_seen/last_seen to the slots they were polled in.
-- One row per client first: a batch may hold a client in several slots.
insert into clients (client_number, label, first_seen, last_seen)
select client_number, max(label), min(seen_at), max(seen_at)
from incoming_clients
group by client_number
on conflict (client_number) do update
    set label = coalesce(excluded.label, clients.label),
        first_seen = least(clients.first_seen, excluded.first_seen),
        last_seen = greatest(clients.last_seen, excluded.last_seen);
