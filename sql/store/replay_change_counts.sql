-- Changes a replay batch is about to apply, per table and kind.
select 'balance_snapshots' as table_name, change, count(*) as row_count
from replay_snapshot_changes
group by all
union all
select 'balance_lines', change, count(*)
from replay_line_changes
group by all;
