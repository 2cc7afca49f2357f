-- Which schema migrations (sql/migrations/NNN_name.sql) this database holds: one row each. A
-- database created by a release holds every migration that release knows; an older one is
-- upgraded in order by the first writer that opens it. No table: a database from before
-- versioning (version 0).
create table if not exists schema_version (
    version         integer primary key,     -- the NNN of sql/migrations/NNN_name.sql
    name            varchar not null,        -- the file's name part, e.g. check_results_scope
    applied_at      timestamptz not null     -- when this database got it (created or upgraded)
);
