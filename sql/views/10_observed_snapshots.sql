-- observed_snapshots: successful polls that observed balances, one row per (client, slot), with
-- the same client's previous and next such poll.
-- A restricted answer without Data (is_restricted, no lines, no base currency) tells the account
-- status but not the balances: it is left out here (account_status_history still uses it).
-- Failed polls never have a snapshot, so they are simply not observed.
-- Read from derived facts (pipeline.store.derived): snapshots with a next one are stored with
-- both neighbours; each client's newest one is in its current tail row.
create or replace view observed_snapshots as
with closed as (
    select
        client_number,
        slot_start,
        snapshot_id,
        observed_at,
        base_currency,
        total_floating_balance,
        line_count,
        is_restricted,
        prev_slot_start,
        next_slot_start
    from derived_observed_snapshots
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

newest as (
    select
        client_number,
        observed_slot_start as slot_start,
        snapshot_id,
        observed_at,
        base_currency,
        total_floating_balance,
        line_count,
        is_restricted,
        prev_slot_start,
        null::timestamptz as next_slot_start
    from current_state
    where observed_slot_start is not null
),

final as (
    select * from closed
    union all
    select * from newest
)

select * from final;
