-- Empty {table} before a rebuild.
delete from {table};
