-- Register a polled client and widen its first_seen/last_seen to this slot.
insert into clients (client_number, label, first_seen, last_seen)
values ($client_number, $label, $seen_at, $seen_at)
on conflict (client_number) do update
    set label = coalesce(excluded.label, clients.label),
        first_seen = least(clients.first_seen, excluded.first_seen),
        last_seen = greatest(clients.last_seen, excluded.last_seen);
