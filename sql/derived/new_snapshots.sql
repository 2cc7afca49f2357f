-- derived_snapshots rows of the recomputed snapshots: the previous snapshot and the
-- reconciliation of the reported total with the stored lines.
create or replace temp table derived_new_snapshots as
with line_sums as (
    select client_number, slot_start, count(*) as lines_stored, sum(value_base) as lines_value
    from derived_window_lines
    where in_range
    group by client_number, slot_start
)

select
    w.client_number,
    w.slot_start,
    w.prev_slot_start,
    w.is_observed,
    w.snapshot_id,
    w.base_currency,
    w.is_restricted,
    w.line_count,
    w.total_floating_balance as reported_total,
    coalesce(s.lines_stored, 0) as lines_stored,
    coalesce(s.lines_value, 0)::decimal(38, 2) as lines_value
from derived_window_snapshots as w
left join line_sums as s on s.client_number = w.client_number and s.slot_start = w.slot_start
where w.in_range;
