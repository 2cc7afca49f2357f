-- Each client's state after the window (owner: its newest recomputed snapshot): the open status
-- interval, and the newest observed snapshot (carried from the stored tail when the window
-- observed nothing).
create or replace temp table derived_new_client_tail as
with newest as (
    select
        client_number,
        max(slot_start) as slot_start,
        max(any_seq) as any_seq,
        arg_max(
            {
                'slot_start': slot_start,
                'snapshot_id': snapshot_id,
                'observed_at': observed_at,
                'base_currency': base_currency,
                'total_floating_balance': total_floating_balance,
                'line_count': line_count,
                'is_restricted': is_restricted,
                'prev_slot_start': prev_observed_slot
            },
            slot_start
        ) filter (where is_observed) as observed
    from derived_window_snapshots
    where in_range
    group by client_number
),

open_status as (
    select *
    from derived_status_starts
    qualify status_group = max(status_group) over (partition by client_number)
),

base as (
    select t.*
    from derived_client_tail as t
    join derived_scope as k on k.client_number = t.client_number and k.tail_slot = t.slot_start
)

select
    n.client_number,
    n.slot_start,
    s.interval_number::bigint as status_interval_number,
    s.slot_start as status_interval_start,
    (n.any_seq - s.any_seq + 1)::bigint as status_interval_snapshots,
    s.erp_account_status,
    s.erp_account_status_text,
    s.web_account_status,
    s.web_account_status_text,
    s.prev_erp_account_status,
    s.prev_web_account_status,
    coalesce(n.observed.slot_start, b.observed_slot_start) as observed_slot_start,
    coalesce(n.observed.snapshot_id, b.snapshot_id) as snapshot_id,
    coalesce(n.observed.observed_at, b.observed_at) as observed_at,
    case when n.observed is null then b.base_currency else n.observed.base_currency end
        as base_currency,
    case when n.observed is null then b.total_floating_balance
        else n.observed.total_floating_balance end as total_floating_balance,
    coalesce(n.observed.line_count, b.line_count) as line_count,
    coalesce(n.observed.is_restricted, b.is_restricted) as is_restricted,
    case when n.observed is null then b.prev_slot_start else n.observed.prev_slot_start end
        as prev_slot_start
from newest as n
join open_status as s on s.client_number = n.client_number
left join base as b on b.client_number = n.client_number;
