-- Snapshots per slot, in slot order: a rebuild cuts history into batches of whole slots.
select slot_start, count(*) as snapshots
from balance_snapshots
group by slot_start
order by slot_start;
