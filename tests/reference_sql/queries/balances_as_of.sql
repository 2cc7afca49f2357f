-- All clients' balances as of an instant: each client's newest observed snapshot at or before
-- it (an ASOF join), with how old that snapshot is at the instant
-- (age_hours).
-- param: as_of TIMESTAMPTZ  the instant (ISO-8601, UTC unless an offset is given)
with probes as (
    select distinct client_number, $as_of::timestamptz as as_of
    from balance_snapshots
),

-- Cut the right side down to the probed keys and the past of the instant first: an ASOF join
-- sorts its whole right side.
candidates as (
    select s.client_number, s.slot_start
    from observed_snapshots as s
    semi join probes as p on p.client_number = s.client_number
    where s.slot_start <= $as_of::timestamptz
),

matched as (
    select p.client_number, p.as_of, c.slot_start
    from probes as p
    asof join candidates as c
        on c.client_number = p.client_number and c.slot_start <= p.as_of
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
        (epoch(m.as_of) - epoch(m.slot_start)) / 3600 as age_hours
    from matched as m
    join balance_lines as l on l.client_number = m.client_number and l.slot_start = m.slot_start
)

select * from final
order by client_number, currency;
