-- account_status_history: ERP and web account status as validity intervals per client, from
-- every successful poll (restricted answers included: they carry the status). An interval ends
-- (valid_to, exclusive) at the next snapshot of the same client with another status, NULL while
-- current. Each interval after a client's first is one transition: is_transition is true and
-- prev_erp_account_status / prev_web_account_status say from what.
create or replace view account_status_history as
with snapshots as (
    select
        client_number,
        slot_start,
        erp_account_status,
        erp_account_status_text,
        web_account_status,
        web_account_status_text,
        lag(erp_account_status) over by_client as prev_erp,
        lag(web_account_status) over by_client as prev_web,
        lag(slot_start) over by_client as prev_slot_start,
        lead(slot_start) over by_client as next_slot_start
    from balance_snapshots
    window by_client as (partition by client_number order by slot_start)
),

flagged as (
    select
        *,
        (
            prev_slot_start is null
            or erp_account_status is distinct from prev_erp
            or web_account_status is distinct from prev_web
        ) as starts_interval
    from snapshots
),

numbered as (
    select
        *,
        sum(starts_interval::integer) over (
            partition by client_number order by slot_start
            rows between unbounded preceding and current row
        )::bigint as interval_number
    from flagged
),

intervals as (
    select
        client_number,
        interval_number,
        min(slot_start) as valid_from,
        arg_max_null(next_slot_start, slot_start) as valid_to,
        max(slot_start) as last_observed_slot,
        count(*) as observed_snapshots,
        arg_min_null(erp_account_status, slot_start) as erp_account_status,
        arg_min_null(erp_account_status_text, slot_start) as erp_account_status_text,
        arg_min_null(web_account_status, slot_start) as web_account_status,
        arg_min_null(web_account_status_text, slot_start) as web_account_status_text,
        arg_min_null(prev_erp, slot_start) as prev_erp_account_status,
        arg_min_null(prev_web, slot_start) as prev_web_account_status
    from numbered
    group by client_number, interval_number
),

final as (
    select
        client_number,
        interval_number,
        valid_from,
        valid_to,
        last_observed_slot,
        observed_snapshots,
        erp_account_status,
        erp_account_status_text,
        web_account_status,
        web_account_status_text,
        interval_number > 1 as is_transition,
        prev_erp_account_status,
        prev_web_account_status
    from intervals
)

select * from final;
