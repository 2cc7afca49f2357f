-- observed_snapshots: successful polls that observed balances, one row per (client, slot), with
-- the same client's previous and next such poll.
-- A restricted answer without Data (is_restricted, no lines, no base currency) tells the account
-- status but not the balances: it is left out here (account_status_history still uses it).
-- Failed polls never have a snapshot, so they are simply not observed.
create or replace view observed_snapshots as
with snapshots as (
    select * from balance_snapshots
),

observed as (
    select *
    from snapshots
    where not (is_restricted and line_count = 0 and base_currency is null)
),

final as (
    select
        client_number,
        slot_start,
        snapshot_id,
        observed_at,
        base_currency,
        total_floating_balance,
        line_count,
        is_restricted,
        lag(slot_start) over by_client as prev_slot_start,
        lead(slot_start) over by_client as next_slot_start
    from observed
    window by_client as (partition by client_number order by slot_start)
)

select * from final;
