-- daily_balances: end-of-day (UTC) balance per client and currency, as of the day's closing slot
-- (the last slot the pipeline polled that day, for any client), from an as-of join on the
-- client's observed snapshots. When the client was not observed in the closing slot, the last
-- earlier observation is carried forward and is_carried is true (as_of_slot_start says from
-- when). Days before a client's first observation have no rows; a currency absent from the as-of
-- snapshot is 0 and not listed. value_base is the value reported at the as-of snapshot.
-- The as-of snapshot of a day is a client's last observed snapshot of that day or of an earlier
-- one, so each such day-end snapshot (derived_observed_snapshots.is_day_end, and the newest one
-- from the current tail) is the as-of of the days from its own until its next observation's:
-- an equi-range join on days, no as-of join over every snapshot.
create or replace view daily_balances as
with polled_slots as (
    select slot_start from derived_polled_slots
    union
    -- slots polled since the last refresh (normally none)
    select slot_start from fetch_attempts
    where slot_start > (select coalesce(max(slot_start), '-infinity') from derived_polled_slots)
    union
    select slot_start from balance_snapshots
    where slot_start > (select coalesce(max(slot_start), '-infinity') from derived_polled_slots)
),

-- UTC days as numbers (epoch arithmetic: no time-zone conversion per row)
closing_slots as (
    select
        epoch_us(slot_start) // 86400000000 as day_number,
        max(slot_start) as closing_slot
    from polled_slots
    group by day_number
),

current_state as (
    select t.client_number, t.observed_slot_start, t.slot_start as tail_slot
    from derived_client_tail as t
    semi join (
        select client_number, max(slot_start) as slot_start
        from derived_client_tail
        group by client_number
    ) as n on n.client_number = t.client_number and n.slot_start = t.slot_start
    where t.observed_slot_start is not null
),

-- each client's last observed snapshot of a day, and the days it is the as-of for: until the
-- day of its next observation (the newest one: through the last polled day)
day_ends as (
    select
        client_number,
        slot_start,
        epoch_us(slot_start) // 86400000000 as first_day,
        epoch_us(next_slot_start) // 86400000000 as end_day
    from derived_observed_snapshots
    where is_day_end
    union all
    select
        client_number,
        observed_slot_start,
        epoch_us(observed_slot_start) // 86400000000,
        (select max(day_number) + 1 from closing_slots)
    from current_state
),

as_of as (
    select e.client_number, d.day_number, d.closing_slot, e.slot_start as as_of_slot_start
    from (
        select client_number, slot_start, unnest(range(first_day, end_day)) as day_number
        from day_ends
    ) as e
    join closing_slots as d on d.day_number = e.day_number
),

-- the lines of those snapshots (the newest ones are the current tail's)
day_end_lines as (
    select client_number, slot_start, currency, base_currency, balance, cash, locked, value_base
    from derived_day_end_lines
    union all
    select l.client_number, l.slot_start, l.currency, l.base_currency, l.balance, l.cash,
        l.locked, l.value_base
    from derived_line_tail as l
    semi join current_state as s
        on s.client_number = l.client_number and s.tail_slot = l.tail_slot
    where l.present
),

final as (
    select
        (date '1970-01-01' + a.day_number::integer) as day,
        a.client_number,
        l.currency,
        l.base_currency,
        l.balance,
        l.cash,
        l.locked,
        l.value_base,
        a.as_of_slot_start,
        a.closing_slot,
        a.as_of_slot_start < a.closing_slot as is_carried
    from as_of as a
    join day_end_lines as l
        on l.client_number = a.client_number and l.slot_start = a.as_of_slot_start
)

select * from final;
