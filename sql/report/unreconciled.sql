-- unreconciled: snapshots of the period whose reported total differs from the sum of their
-- lines' values (newest first).
select
    slot_start,
    client_number,
    base_currency,
    line_count,
    lines_stored,
    reported_total,
    lines_value,
    difference
from snapshot_reconciliation
where not is_reconciled
order by slot_start desc, client_number;
