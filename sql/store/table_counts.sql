select 'raw_responses' as table_name, count(*) as row_count from raw_responses
union all select 'fetch_attempts', count(*) from fetch_attempts
union all select 'balance_snapshots', count(*) from balance_snapshots
union all select 'balance_lines', count(*) from balance_lines
union all select 'clients', count(*) from clients;
