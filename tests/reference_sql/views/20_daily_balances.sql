-- daily_balances: end-of-day (UTC) balance per client and currency, as of the day's closing slot
-- (the last slot the pipeline polled that day, for any client), from an as-of join on the
-- client's observed snapshots. When the client was not observed in the closing slot, the last
-- earlier observation is carried forward and is_carried is true (as_of_slot_start says from
-- when). Days before a client's first observation have no rows; a currency absent from the as-of
-- snapshot is 0 and not listed. value_base is the value reported at the as-of snapshot.
create or replace view daily_balances as
with polled_slots as (
    select slot_start from fetch_attempts
    union
    select slot_start from balance_snapshots
),

closing_slots as (
    select
        (slot_start at time zone 'UTC')::date as day,
        max(slot_start) as closing_slot
    from polled_slots
    group by day
),

first_observed as (
    select client_number, min((slot_start at time zone 'UTC')::date) as first_day
    from observed_snapshots
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
    asof join observed_snapshots as s
        on s.client_number = d.client_number and s.slot_start <= d.closing_slot
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
    join balance_lines as l
        on l.client_number = a.client_number and l.slot_start = a.as_of_slot_start
)

select * from final;
