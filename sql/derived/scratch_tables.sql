-- The temp tables a refresh computed into (derived_new_*, derived_scope, ...): every temporary
-- derived_ table but the derived tables themselves (a read-only connection to an older file
-- holds those as temp tables, see prepare_readonly).
select table_name
from duckdb_tables()
where temporary and starts_with(table_name, 'derived_') and not list_contains($keep, table_name);
