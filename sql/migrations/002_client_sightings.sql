-- clients becomes append-only sightings plus a view of the same columns: DuckLake has no
-- ON CONFLICT/UPDATE, and an UPDATE beside concurrent shard inserts fails there. A database
-- below version 2 has the clients TABLE: its first and last sighting become sighting rows, the
-- table goes, and the view of sql/ddl/003_client_sightings.sql takes its name.
-- guard: select count(*) > 0 from duckdb_tables() where schema_name = 'main' and table_name = 'clients'
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
create or replace view clients as
select
    client_number,
    arg_max(label, (seen_at, label)) filter (where label is not null) as label,
    min(seen_at) as first_seen,
    max(seen_at) as last_seen
from client_sightings
group by client_number;
