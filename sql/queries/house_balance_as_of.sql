-- The house's holdings as of an instant: per currency, the sum over clients of each client's
-- newest observed balance at or before it (carried forward), with value and the number of
-- clients holding it.
-- param: as_of TIMESTAMPTZ  the instant (ISO-8601, UTC unless an offset is given)
with probes as (
    select distinct client_number, $as_of::timestamptz as as_of
    from balance_snapshots
),

-- Cut the right side to the probed keys and the instant's past first: ASOF sorts its right side.
candidates as (
    select s.client_number, s.slot_start
    from observed_snapshots as s
    where s.slot_start <= $as_of::timestamptz
),

matched as (
    select p.client_number, c.slot_start
    from probes as p
    asof join candidates as c
        on c.client_number = p.client_number and c.slot_start <= p.as_of
),

final as (
    select l.currency, l.base_currency, count(*) as clients, sum(l.balance) as total_balance,
        sum(l.cash) as total_cash, sum(l.locked) as total_locked,
        sum(l.value_base) as total_value_base, min(m.slot_start) as oldest_slot_used
    from matched as m
    join balance_lines as l on l.client_number = m.client_number and l.slot_start = m.slot_start
    group by all
)

select * from final
order by total_value_base desc, currency;
