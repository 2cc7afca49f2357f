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

grouped as (
    select
        *,
        sum(starts_status_interval::integer) over by_client as status_group,
        max(case when starts_status_interval then slot_start end) over by_client as last_start,
        row_number() over by_client as position
    from flagged
    window by_client as (
        partition by client_number order by slot_start
        rows between unbounded preceding and current row
    )
),

state as (
    select
        g.*,
        coalesce(b.status_interval_number, 0) + g.status_group as status_interval_number,
        case when g.status_group = 0 then b.status_interval_start else g.last_start end
            as status_interval_start,
        row_number() over (
            partition by g.client_number, g.status_group order by g.slot_start
        ) + case when g.status_group = 0 then coalesce(b.status_interval_snapshots, 0) else 0 end
            as status_interval_snapshots,
        b.status_interval_snapshots as base_snapshots
    from grouped as g
    left join base as b on b.client_number = g.client_number
),

closing as (
    select
        *,
        case when starts_status_interval and prev_slot_start is not null then
            case
                when position = 1 then base_snapshots
                else lag(status_interval_snapshots) over (
                    partition by client_number order by slot_start
                )
            end
        end as closed_status_snapshots
    from state
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
    from closing as c
    left join line_sums as s
        on s.client_number = c.client_number and s.slot_start = c.slot_start
)

select * from final;
