-- All clients' balances as of an instant: each client's newest observed snapshot at or before
-- it (an ASOF join), with how old that snapshot is at the instant
-- (age_hours).
-- param: as_of TIMESTAMPTZ  the instant (ISO-8601, UTC unless an offset is given)
with latest as (
    select client_number, max(observed_slot_start) as slot_start
    from derived_client_tail
    group by client_number
),

-- a client's snapshot as of the instant is the observed snapshot whose [slot, next observed
-- slot) holds it, or its newest one when even that is older
matched as (
    select client_number, slot_start
    from derived_observed_snapshots
    where slot_start <= $as_of::timestamptz
        and next_slot_start > $as_of::timestamptz
    union all
    select client_number, slot_start
    from latest
    where slot_start <= $as_of::timestamptz
),

final as (
    select
        m.client_number,
        l.currency,
        l.base_currency,
        l.balance,
        l.cash,
        l.locked,
        l.value_base,
        l.implied_rate,
        m.slot_start as as_of_slot_start,
        (epoch($as_of::timestamptz) - epoch(m.slot_start)) / 3600 as age_hours
    from matched as m
    join balance_lines as l on l.client_number = m.client_number and l.slot_start = m.slot_start
)

select * from final
order by client_number, currency;
