-- latest_balances: each client's lines from its newest snapshot that observed balances.
-- Currencies absent from that snapshot are 0 (not listed); a client whose newest observed
-- snapshot has no lines has no row. Restricted answers without Data do not count as newer.
-- Read from the tail tables (pipeline.store.derived): the currencies present in each client's
-- current state.
create or replace view latest_balances as
with current_lines as (
    -- each client's currencies in its current tail row (derived_client_tail's newest)
    select l.*
    from derived_line_tail as l
    semi join (
        select client_number, max(slot_start) as slot_start
        from derived_client_tail
        group by client_number
    ) as n on n.client_number = l.client_number and n.slot_start = l.tail_slot
    where l.present
),

final as (
    select
        client_number,
        currency,
        slot_start,
        observed_at,
        base_currency,
        balance,
        cash,
        locked,
        value_base,
        implied_rate
    from current_lines
)

select * from final;
