-- snapshot_reconciliation: per snapshot, the reported total (TotalFloatingBalance) against the
-- sum of its lines' values, both DECIMAL(38,2). is_reconciled is NULL when no total was
-- reported (restricted answers without Data); a snapshot without lines sums to 0.00.
-- Read from derived_snapshots (the line sums computed when the snapshot is written).
create or replace view snapshot_reconciliation as
with snapshots as (
    select * from derived_snapshots
),

final as (
    select
        client_number,
        slot_start,
        snapshot_id,
        base_currency,
        is_restricted,
        line_count,
        lines_stored,
        reported_total,
        lines_value,
        (reported_total - lines_value)::decimal(38, 2) as difference,
        reported_total = lines_value as is_reconciled
    from snapshots
)

select * from final;
