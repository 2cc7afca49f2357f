-- derived_snapshots rows of the recomputed snapshots: the previous snapshot, the account-status
-- interval (numbered per client, carried in from the stored row of the client's last snapshot
-- before the window) and the sums of the snapshot's stored lines.
create or replace temp table derived_new_snapshots as
with base as (
    select
        d.client_number,
        d.status_interval_number,
        d.status_interval_start,
        d.status_interval_snapshots
    from derived_snapshots as d
    join derived_scope as k
        on k.client_number = d.client_number and k.base_any_slot = d.slot_start
),

flagged as (
    select
        client_number,
        slot_start,
        prev_slot_start,
        is_observed,
        any_seq,
        base_any_seq,
        erp_account_status,
        erp_account_status_text,
        web_account_status,
        web_account_status_text,
        prev_erp_account_status,
        prev_web_account_status,
        (
            prev_slot_start is null
            or erp_account_status is distinct from prev_erp_account_status
            or web_account_status is distinct from prev_web_account_status
        ) as starts_status_interval
    from derived_window_snapshots
    where in_range
),

-- the latest interval start at or before each snapshot, and strictly before it (NULL: the
-- interval carried in from the base snapshot)
starts as (
    select
        *,
        sum(starts_status_interval::integer) over upto_here as starts_so_far,
        max(case when starts_status_interval then slot_start end) over upto_here as start_slot,
        max(case when starts_status_interval then any_seq end) over upto_here as start_seq,
        max(case when starts_status_interval then any_seq end) over before_here
            as prev_start_seq
    from flagged
    window
        upto_here as (
            partition by client_number order by slot_start
            rows between unbounded preceding and current row
        ),
        before_here as (
            partition by client_number order by slot_start
            rows between unbounded preceding and 1 preceding
        )
),

state as (
    select
        s.*,
        (coalesce(b.status_interval_number, 0) + s.starts_so_far)::bigint
            as status_interval_number,
        coalesce(s.start_slot, b.status_interval_start) as status_interval_start,
        case
            when s.start_seq is not null then s.any_seq - s.start_seq + 1
            else b.status_interval_snapshots + s.any_seq - s.base_any_seq
        end::bigint as status_interval_snapshots,
        case when s.starts_status_interval and s.prev_slot_start is not null then
            case
                when s.prev_start_seq is not null then s.any_seq - s.prev_start_seq
                else b.status_interval_snapshots + s.any_seq - 1 - s.base_any_seq
            end
        end::bigint as closed_status_snapshots
    from starts as s
    left join base as b on b.client_number = s.client_number
),

line_sums as (
    select client_number, slot_start, count(*) as lines_stored, sum(value_base) as lines_value
    from derived_window_lines
    where in_range
    group by client_number, slot_start
),

final as (
    select
        c.client_number,
        c.slot_start,
        c.prev_slot_start,
        c.is_observed,
        coalesce(s.lines_stored, 0) as lines_stored,
        coalesce(s.lines_value, 0)::decimal(38, 2) as lines_value,
        c.status_interval_number,
        c.status_interval_start,
        c.status_interval_snapshots,
        c.starts_status_interval,
        case when c.starts_status_interval then c.erp_account_status end
            as erp_account_status,
        case when c.starts_status_interval then c.erp_account_status_text end
            as erp_account_status_text,
        case when c.starts_status_interval then c.web_account_status end
            as web_account_status,
        case when c.starts_status_interval then c.web_account_status_text end
            as web_account_status_text,
        case when c.starts_status_interval then c.prev_erp_account_status end
            as prev_erp_account_status,
        case when c.starts_status_interval then c.prev_web_account_status end
            as prev_web_account_status,
        c.closed_status_snapshots
    from state as c
    left join line_sums as s
        on s.client_number = c.client_number and s.slot_start = c.slot_start
)

select * from final;
