-- overview: what the report covers: polled slots (any attempt or snapshot), the clients and
-- snapshots in them, and the headline counts of the exception sections.
with polled_slots as (
    select slot_start from fetch_attempts
    union
    select slot_start from balance_snapshots
)

select
    (select min(slot_start) from polled_slots) as first_slot,
    (select max(slot_start) from polled_slots) as last_slot,
    (select count(*) from polled_slots) as slots,
    (select count(distinct client_number) from balance_snapshots) as clients,
    (select count(*) from balance_snapshots) as snapshots,
    (select count(*) from balance_lines) as lines,
    (select count(*) from fetch_attempts) as attempts,
    (select count(*) from fetch_attempts where outcome not in ('ok', 'restricted')) as failed_attempts,
    (select count(*) from fx_rate_outliers) as outlier_lines,
    (select count(*) from snapshot_reconciliation where not is_reconciled) as unreconciled;
