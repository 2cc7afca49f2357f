-- observed_snapshots: successful polls that observed balances, one row per (client, slot), with
-- the same client's previous and next such poll.
-- A restricted answer without Data (is_restricted, no lines, no base currency) tells the account
-- status but not the balances: it is left out here (account_status_history still uses it).
-- Failed polls never have a snapshot, so they are simply not observed.
-- Read from derived facts (pipeline.store.derived): snapshots with a next one are stored with
-- both neighbours; each client's newest one comes from its newest tail row.
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

newest as (
    select
        client_number,
        arg_max(
            {
                'slot_start': observed_slot_start,
                'snapshot_id': snapshot_id,
                'observed_at': observed_at,
                'base_currency': base_currency,
                'total_floating_balance': total_floating_balance,
                'line_count': line_count,
                'is_restricted': is_restricted,
                'prev_slot_start': prev_slot_start
            },
            observed_slot_start
        ) as s
    from derived_client_tail
    where observed_slot_start is not null
    group by client_number
),

final as (
    select * from closed
    union all
    select
        client_number,
        s.slot_start,
        s.snapshot_id,
        s.observed_at,
        s.base_currency,
        s.total_floating_balance,
        s.line_count,
        s.is_restricted,
        s.prev_slot_start,
        null::timestamptz as next_slot_start
    from newest
)

select * from final;
