-- latest_balances: each client's lines from its newest snapshot that observed balances.
-- Currencies absent from that snapshot are 0 (not listed); a client whose newest observed
-- snapshot has no lines has no row. Restricted answers without Data do not count as newer.
create or replace view latest_balances as
with snapshots as (
    select client_number, slot_start, observed_at
    from balance_snapshots
    where not (is_restricted and line_count = 0 and base_currency is null)
),

latest as (
    select client_number, slot_start, observed_at
    from snapshots
    qualify row_number() over (partition by client_number order by slot_start desc) = 1
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
    join balance_lines as l on l.client_number = s.client_number and l.slot_start = s.slot_start
)

select * from final;
