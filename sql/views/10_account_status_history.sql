-- account_status_history: ERP and web account status as validity intervals per client, from
-- every successful poll (restricted answers included: they carry the status). An interval ends
-- (valid_to, exclusive) at the next snapshot of the same client with another status, NULL while
-- current. Each interval after a client's first is one transition: is_transition is true and
-- prev_erp_account_status / prev_web_account_status say from what.
-- Read from derived facts: closed intervals are stored when the next status arrives; the open
-- one is in each client's current tail.
create or replace view account_status_history as
with closed as (
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
        prev_erp_account_status,
        prev_web_account_status
    from derived_closed_status
),

current_state as (
    select t.*
    from derived_client_tail as t
    semi join (
        select client_number, max(slot_start) as slot_start
        from derived_client_tail
        group by client_number
    ) as n on n.client_number = t.client_number and n.slot_start = t.slot_start
),

open as (
    select
        client_number,
        status_interval_number as interval_number,
        status_interval_start as valid_from,
        null::timestamptz as valid_to,
        slot_start as last_observed_slot,
        status_interval_snapshots as observed_snapshots,
        erp_account_status,
        erp_account_status_text,
        web_account_status,
        web_account_status_text,
        prev_erp_account_status,
        prev_web_account_status
    from current_state
),

intervals as (
    select * from closed
    union all
    select * from open
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
