-- The tables of the file (not temporary ones): which derived tables an older file lacks.
select table_name
from duckdb_tables()
where database_name = current_database() and schema_name = 'main' and not temporary;
