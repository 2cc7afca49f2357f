-- daily_balances: end-of-day (UTC) balance per client and currency, as of the day's closing slot
-- (the last slot the pipeline polled that day, for any client), from an as-of join on the
-- client's observed snapshots. When the client was not observed in the closing slot, the last
-- earlier observation is carried forward and is_carried is true (as_of_slot_start says from
-- when). Days before a client's first observation have no rows; a currency absent from the as-of
-- snapshot is 0 and not listed. value_base is the value reported at the as-of snapshot.
-- The as-of snapshot of a day is always a client's last observed snapshot of that day or of an
-- earlier one: those (derived_observed_snapshots.is_day_end and derived_day_end_lines, and the
-- newest from the current tail) are all it reads.
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

closing_slots as (
    select
        (slot_start at time zone 'UTC')::date as day,
        max(slot_start) as closing_slot
    from polled_slots
    group by day
),

current_lines as (
    -- each client's currencies in its current tail row (derived_client_tail's newest)
    select l.*
    from derived_line_tail as l
    semi join (
        select client_number, max(slot_start) as slot_start
        from derived_client_tail
        group by client_number
    ) as n on n.client_number = l.client_number and n.slot_start = l.tail_slot
),

latest as (
    select t.client_number, t.observed_slot_start as slot_start
    from derived_client_tail as t
    semi join (
        select client_number, max(slot_start) as slot_start
        from derived_client_tail
        group by client_number
    ) as n on n.client_number = t.client_number and n.slot_start = t.slot_start
    where t.observed_slot_start is not null
),

-- each client's last observed snapshot of every day it was observed
day_ends as (
    select client_number, slot_start
    from derived_observed_snapshots
    where is_day_end
    union all
    select client_number, slot_start
    from latest
),

first_observed as (
    select client_number, min((slot_start at time zone 'UTC')::date) as first_day
    from day_ends
    group by client_number
),

client_days as (
    select f.client_number, d.day, d.closing_slot
    from first_observed as f
    join closing_slots as d on d.day >= f.first_day
),

as_of as (
    select d.client_number, d.day, d.closing_slot, s.slot_start as as_of_slot_start
    from client_days as d
    asof join day_ends as s
        on s.client_number = d.client_number and s.slot_start <= d.closing_slot
),

-- the lines of those snapshots (the newest ones are the current tail's)
day_end_lines as (
    select client_number, slot_start, currency, base_currency, balance, cash, locked, value_base
    from derived_day_end_lines
    union all
    select client_number, slot_start, currency, base_currency, balance, cash, locked, value_base
    from current_lines
    where present
),

final as (
    select
        a.day,
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
