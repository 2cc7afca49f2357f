-- raw_responses, fetch_attempts and balance_snapshots lose their PRIMARY KEYs (see
-- sql/ddl/001_tables.sql: every write session's checkpoint loaded and rewrote their ART
-- indexes whole, a cost growing with history; the writers' anti-joins keep the keys). DuckDB
-- cannot drop a key constraint, so each table is renamed, created again from the DDL without
-- it, refilled in its stored order (a compacted period stays clustered) and dropped. Views read
-- the tables by name and bind when queried, so they follow. A lake never had the keys.
-- guard: select count(*) > 0 from duckdb_constraints() where schema_name = 'main' and constraint_type = 'PRIMARY KEY' and table_name in ('raw_responses', 'fetch_attempts', 'balance_snapshots')
alter table raw_responses rename to keyed_raw_responses;
alter table fetch_attempts rename to keyed_fetch_attempts;
alter table balance_snapshots rename to keyed_balance_snapshots;
-- include: ddl/001_tables
insert into raw_responses by name select * from keyed_raw_responses;
insert into fetch_attempts by name select * from keyed_fetch_attempts;
insert into balance_snapshots by name select * from keyed_balance_snapshots;
drop table keyed_raw_responses;
drop table keyed_fetch_attempts;
drop table keyed_balance_snapshots;
