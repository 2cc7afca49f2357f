-- balance_intervals: SCD2 validity intervals of each client's balance and cash per currency.
-- An interval starts at the first observed snapshot with a new (balance, cash) and ends
-- (valid_to, exclusive) at the next observed snapshot of the same client where the currency has
-- another balance or cash or is gone from Data. Failed or missed polls never close an interval;
-- valid_to is NULL while the interval is current.
-- Read from derived facts: closed intervals are stored when they close; the open ones are the
-- state of each client's present currencies in its current tail.
create or replace view balance_intervals as
with closed as (
    select
        client_number,
        currency,
        interval_number,
        base_currency,
        balance,
        cash,
        locked,
        valid_from,
        valid_to,
        last_observed_slot,
        observed_snapshots
    from derived_closed_intervals
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
    where l.present
),

open as (
    select
        client_number,
        currency,
        interval_number,
        base_currency,
        balance,
        cash,
        locked,
        interval_start as valid_from,
        null::timestamptz as valid_to,
        slot_start as last_observed_slot,
        interval_observed as observed_snapshots
    from current_lines
),

final as (
    select * from closed
    union all
    select * from open
)

select * from final;
