-- latest_balances: each client's lines from its newest snapshot that observed balances.
-- Currencies absent from that snapshot are 0 (not listed); a client whose newest observed
-- snapshot has no lines has no row. Restricted answers without Data do not count as newer.
-- Read from the tail tables (pipeline.store.derived): the newest observed snapshot per client
-- and its lines.
create or replace view latest_balances as
with latest as (
    select client_number, max(observed_slot_start) as slot_start
    from derived_client_tail
    group by client_number
),

final as (
    select
        l.client_number,
        l.currency,
        l.slot_start,
        l.observed_at,
        l.base_currency,
        l.balance,
        l.cash,
        l.locked,
        l.value_base,
        l.implied_rate
    from latest as s
    join derived_line_tail as l on l.client_number = s.client_number and l.slot_start = s.slot_start
)

select * from final;
