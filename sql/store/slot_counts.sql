-- Rows per table and slot in [$from, $to): what each poll slot holds, for per-partition
-- metadata (run before and after a round: the difference is what the round added). For clients,
-- the clients first seen in that slot.
select slot_start, 'raw_responses' as table_name, count(*) as row_count
from raw_responses where slot_start >= $from and slot_start < $to group by slot_start
union all
select slot_start, 'fetch_attempts', count(*)
from fetch_attempts where slot_start >= $from and slot_start < $to group by slot_start
union all
select slot_start, 'balance_snapshots', count(*)
from balance_snapshots where slot_start >= $from and slot_start < $to group by slot_start
union all
select slot_start, 'balance_lines', count(*)
from balance_lines where slot_start >= $from and slot_start < $to group by slot_start
union all
select first_seen, 'clients', count(*)
from clients where first_seen >= $from and first_seen < $to group by first_seen;
