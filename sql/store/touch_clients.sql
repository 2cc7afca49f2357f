-- Every client with a fresh snapshot was seen in its slot: a sighting without a label (the
-- landing already recorded one with the label, so this adds rows only for replays and imports).
-- Append-only (see insert_client_sightings.sql); a replay leaves first_seen / last_seen unchanged.
insert into client_sightings (client_number, label, seen_at)
select distinct f.client_number, null, f.slot_start
from fresh_snapshots as f
where not exists (
    select 1
    from client_sightings as s
    where s.client_number = f.client_number
      and s.seen_at = f.slot_start
      and s.seen_at between (select min(slot_start) from fresh_snapshots)
                        and (select max(slot_start) from fresh_snapshots)
);
