-- snapshot_reconciliation: per snapshot, the reported total (TotalFloatingBalance) against the
-- sum of its lines' values, both DECIMAL(38,2). is_reconciled is NULL when no total was
-- reported (restricted answers without Data); a snapshot without lines sums to 0.00.
create or replace view snapshot_reconciliation as
with snapshots as (
    select client_number, slot_start, snapshot_id, base_currency, total_floating_balance,
        line_count, is_restricted
    from balance_snapshots
),

line_sums as (
    select client_number, slot_start, sum(value_base) as lines_value, count(*) as lines
    from balance_lines
    group by client_number, slot_start
),

final as (
    select
        s.client_number,
        s.slot_start,
        s.snapshot_id,
        s.base_currency,
        s.is_restricted,
        s.line_count,
        coalesce(l.lines, 0) as lines_stored,
        s.total_floating_balance as reported_total,
        coalesce(l.lines_value, 0)::decimal(38, 2) as lines_value,
        (s.total_floating_balance - coalesce(l.lines_value, 0))::decimal(38, 2) as difference,
        s.total_floating_balance = coalesce(l.lines_value, 0) as is_reconciled
    from snapshots as s
    left join line_sums as l on l.client_number = s.client_number and l.slot_start = s.slot_start
)

select * from final;
