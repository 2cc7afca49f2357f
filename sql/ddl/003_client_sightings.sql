-- client_sightings: append-only, one row per client per slot it was polled (or answered) in.
-- Rounds only ever insert here (anti-joins, no keys, no UPDATE): shards writing a DuckLake at
-- once cannot conflict, and a re-run adds nothing. Never the client's password.
create table if not exists client_sightings (
    client_number   bigint not null,         -- the client's number at the broker
    label           varchar,                 -- the label from the clients file; NULL when unknown
    seen_at         timestamptz not null     -- the slot it was polled in
);

-- clients: every client the pipeline has polled, the same columns the table had before.
-- The label is the latest non-null one (by slot, then by text so ties are stable).
create or replace view clients as
select
    client_number,
    arg_max(label, (seen_at, label)) filter (where label is not null) as label,
    min(seen_at) as first_seen,
    max(seen_at) as last_seen
from client_sightings
group by client_number;
