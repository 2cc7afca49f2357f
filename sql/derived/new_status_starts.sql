-- Account-status intervals of the window: a snapshot of any kind starts one when the client's
-- ERP or web status differs from its previous snapshot's (or it is the client's first). Numbered
-- per client from the carried-in count; group 0 is the interval carried in from the tail, its
-- start placed so that a length is a difference of ordinals (any_seq).
create or replace temp table derived_status_starts as
with base as (
    select t.*, w.base_any_seq
    from derived_client_tail as t
    join derived_scope as k on k.client_number = t.client_number and k.tail_slot = t.slot_start
    left join derived_window_clients as w on w.client_number = t.client_number
),

flagged as (
    select
        *,
        (
            prev_slot_start is null
            or erp_account_status is distinct from prev_erp_account_status
            or web_account_status is distinct from prev_web_account_status
        ) as starts_status_interval
    from derived_window_snapshots
    where in_range
),

numbered as (
    select
        *,
        sum(starts_status_interval::integer) over (
            partition by client_number order by slot_start
            rows between unbounded preceding and current row
        )::bigint as status_group
    from flagged
)

select
    n.client_number,
    n.status_group,
    n.slot_start,
    n.prev_slot_start,
    n.any_seq,
    n.starts_status_interval,
    coalesce(b.status_interval_number, 0) + n.status_group as interval_number,
    n.erp_account_status,
    n.erp_account_status_text,
    n.web_account_status,
    n.web_account_status_text,
    n.prev_erp_account_status,
    n.prev_web_account_status
from numbered as n
left join base as b on b.client_number = n.client_number
where n.starts_status_interval
union all
select
    client_number,
    0,
    status_interval_start,
    null,
    base_any_seq - status_interval_snapshots + 1,
    false,
    status_interval_number,
    erp_account_status,
    erp_account_status_text,
    web_account_status,
    web_account_status_text,
    prev_erp_account_status,
    prev_web_account_status
from base;
