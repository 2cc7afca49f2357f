-- Every client that answered in the batch was polled in those slots: widen first_seen /
-- last_seen (never narrow them: attempts without an answer count as seen too). Labels come
-- from the clients file, not from raw, so a client new to this database gets none.
insert into clients (client_number, label, first_seen, last_seen)
select client_number, null, min(slot_start), max(slot_start)
from raw_responses
where slot_start >= $from
  and slot_start < $to
  and ($client::bigint is null or client_number = $client::bigint)
group by client_number
on conflict (client_number) do update
    set first_seen = least(clients.first_seen, excluded.first_seen),
        last_seen = greatest(clients.last_seen, excluded.last_seen);
