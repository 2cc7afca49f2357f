-- Upgrade a store made before client_sightings: its `clients` TABLE becomes sightings (first and
-- last seen, with its label), then goes, so the DDL can create the view of the same name. Run
-- only when `clients` is a base table, in one transaction with the DDL that follows.
create table if not exists client_sightings (
    client_number   bigint not null,
    label           varchar,
    seen_at         timestamptz not null
);
insert into client_sightings (client_number, label, seen_at)
select client_number, label, first_seen from clients
union all
select client_number, label, last_seen from clients where last_seen <> first_seen;
drop table clients;
