-- Record the clients a batch polled, one sighting per (client, slot): an anti-join instead of
-- ON CONFLICT/UPDATE, so shards appending to a DuckLake at once never conflict. A sighting adds
-- nothing when the same client, slot and label (or any label, when this one is unknown) is
-- stored; the slot bounds keep the scan to the batch's slots.
insert into client_sightings (client_number, label, seen_at)
select i.client_number, i.label, i.seen_at
from incoming_clients as i
where not exists (
    select 1
    from client_sightings as s
    where s.client_number = i.client_number
      and s.seen_at = i.seen_at
      and (i.label is null or s.label = i.label)
      and s.seen_at between (select min(seen_at) from incoming_clients)
                        and (select max(seen_at) from incoming_clients)
)
qualify row_number() over (
    partition by i.client_number, i.seen_at order by i.label desc nulls last
) = 1;
