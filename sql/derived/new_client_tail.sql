-- Per client of the refresh: its newest recomputed snapshot (any kind) with the size of its
-- status interval so far, and its newest recomputed observed snapshot (NULLs when none).
create or replace temp table derived_new_client_tail as
with snapshots as (
    select
        w.client_number,
        w.slot_start,
        w.is_observed,
        n.status_interval_snapshots,
        {
            'slot_start': w.slot_start,
            'snapshot_id': w.snapshot_id,
            'observed_at': w.observed_at,
            'base_currency': w.base_currency,
            'total_floating_balance': w.total_floating_balance,
            'line_count': w.line_count,
            'is_restricted': w.is_restricted,
            'prev_slot_start': w.prev_observed_slot
        } as observed
    from derived_window_snapshots as w
    join derived_new_snapshots as n
        on n.client_number = w.client_number and n.slot_start = w.slot_start
),

newest as (
    select
        client_number,
        max(slot_start) as slot_start,
        arg_max(status_interval_snapshots, slot_start) as status_interval_snapshots,
        arg_max(observed, slot_start) filter (where is_observed) as observed
    from snapshots
    group by client_number
)

select
    client_number,
    slot_start,
    status_interval_snapshots,
    observed.slot_start as observed_slot_start,
    observed.snapshot_id,
    observed.observed_at,
    observed.base_currency,
    observed.total_floating_balance,
    observed.line_count,
    observed.is_restricted,
    observed.prev_slot_start
from newest;
