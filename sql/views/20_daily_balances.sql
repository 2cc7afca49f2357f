-- daily_balances: end-of-day (UTC) balance per client and currency, as of the day's closing slot
-- (the last slot the pipeline polled that day, for any client), from an as-of join on the
-- client's observed snapshots. When the client was not observed in the closing slot, the last
-- earlier observation is carried forward and is_carried is true (as_of_slot_start says from
-- when). Days before a client's first observation have no rows; a currency absent from the as-of
-- snapshot is 0 and not listed. value_base is the value reported at the as-of snapshot.
-- The as-of snapshot of a day is a client's last observed snapshot of that day or of an earlier
-- one, so each such day-end snapshot is the as-of of the days from its own until its next
-- observation's: derived_day_end_lines holds its lines once per such day (written when that
-- next observation arrives), and the newest snapshot's lines, from the current tail, cover the
-- days since. No as-of join over every snapshot; a filter on day skips the older row groups.
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

-- UTC days by epoch arithmetic (no time-zone conversion per row)
closing_slots as (
    select
        date '1970-01-01' + (epoch_us(slot_start) // 86400000000)::integer as day,
        max(slot_start) as closing_slot
    from polled_slots
    group by day
),

current_lines as (
    -- each client's present currencies in its current tail row (derived_client_tail's newest)
    select l.*
    from derived_line_tail as l
    semi join (
        select client_number, max(slot_start) as slot_start
        from derived_client_tail
        group by client_number
    ) as n on n.client_number = l.client_number and n.slot_start = l.tail_slot
    where l.present
),

as_of_lines as (
    select day, client_number, slot_start, currency, base_currency, balance, cash, locked,
        value_base
    from derived_day_end_lines
    union all
    -- the newest snapshot's lines, for its day and every day since
    select
        date '1970-01-01' + unnest(
            range(
                epoch_us(slot_start) // 86400000000,
                (select max(epoch_us(slot_start)) // 86400000000 + 1 from polled_slots)
            )
        )::integer as day,
        client_number, slot_start, currency, base_currency, balance, cash, locked, value_base
    from current_lines
),

final as (
    select
        l.day,
        l.client_number,
        l.currency,
        l.base_currency,
        l.balance,
        l.cash,
        l.locked,
        l.value_base,
        l.slot_start as as_of_slot_start,
        d.closing_slot,
        l.slot_start < d.closing_slot as is_carried
    from as_of_lines as l
    join closing_slots as d on d.day = l.day
)

select * from final;
