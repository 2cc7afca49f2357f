-- Every client that answered in the batch was polled in those slots: a sighting per (client,
-- slot) not stored yet (attempts without an answer count as seen too, so nothing narrows).
-- Labels come from the clients file, not from raw, so a client new to this database gets none.
insert into client_sightings (client_number, label, seen_at)
select distinct r.client_number, null, r.slot_start
from raw_responses as r
where r.slot_start >= $from
  and r.slot_start < $to
  and ($client_lo::bigint is null
       or r.client_number between $client_lo::bigint and $client_hi::bigint)
  and not exists (
    select 1
    from client_sightings as s
    where s.client_number = r.client_number
      and s.seen_at = r.slot_start
      and s.seen_at >= $from
      and s.seen_at < $to
  );
