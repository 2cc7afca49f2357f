-- Offending rows: snapshots whose reported total differs from the sum of their lines' values.
select client_number, slot_start, base_currency, reported_total, lines_value, difference
from snapshot_reconciliation
where not is_reconciled
order by slot_start, client_number;
