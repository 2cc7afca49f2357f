-- account_status_history: ERP and web account status as validity intervals per client, from
-- every successful poll (restricted answers included: they carry the status). An interval ends
-- (valid_to, exclusive) at the next snapshot of the same client with another status, NULL while
-- current. Each interval after a client's first is one transition: is_transition is true and
-- prev_erp_account_status / prev_web_account_status say from what.
-- Read from derived_snapshots: the snapshots that start an interval (few), each closed by the
-- next start, the last one by the client's newest snapshot (its tail row).
create or replace view account_status_history as
with starts as (
    select
        client_number,
        status_interval_number as interval_number,
        slot_start as valid_from,
        erp_account_status,
        erp_account_status_text,
        web_account_status,
        web_account_status_text,
        prev_erp_account_status,
        prev_web_account_status,
        lead(slot_start) over by_client as valid_to,
        lead(prev_slot_start) over by_client as closed_last_slot,
        lead(closed_status_snapshots) over by_client as closed_snapshots
    from derived_snapshots
    where starts_status_interval
    window by_client as (partition by client_number order by slot_start)
),

newest as (
    select
        client_number,
        max(slot_start) as last_slot,
        arg_max(status_interval_snapshots, slot_start) as snapshots
    from derived_client_tail
    group by client_number
),

final as (
    select
        s.client_number,
        s.interval_number,
        s.valid_from,
        s.valid_to,
        coalesce(s.closed_last_slot, n.last_slot) as last_observed_slot,
        coalesce(s.closed_snapshots, n.snapshots) as observed_snapshots,
        s.erp_account_status,
        s.erp_account_status_text,
        s.web_account_status,
        s.web_account_status_text,
        s.interval_number > 1 as is_transition,
        s.prev_erp_account_status,
        s.prev_web_account_status
    from starts as s
    left join newest as n on n.client_number = s.client_number
)

select * from final;
