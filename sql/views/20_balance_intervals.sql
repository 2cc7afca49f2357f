-- balance_intervals: SCD2 validity intervals of each client's balance and cash per currency.
-- An interval starts at the first observed snapshot with a new (balance, cash) and ends
-- (valid_to, exclusive) at the next observed snapshot of the same client where the currency has
-- another balance or cash or is gone from Data. Failed or missed polls never close an interval;
-- valid_to is NULL while the interval is current.
-- Read from derived facts: a closed interval is the state carried by the pair that ends it; an
-- open one is the state of the client's newest observed lines.
create or replace view balance_intervals as
with closed as (
    select
        client_number,
        currency,
        -- a vanished currency keeps its interval number; a changed one has started the next
        interval_number - case when vanished then 0 else 1 end as interval_number,
        prev_base_currency as base_currency,
        prev_balance as balance,
        prev_cash as cash,
        prev_locked as locked,
        closed_interval_start as valid_from,
        slot_start as valid_to,
        prev_slot_start as last_observed_slot,
        closed_interval_observed as observed_snapshots
    from derived_line_pairs
    where closes_interval
),

latest as (
    select client_number, max(observed_slot_start) as slot_start
    from derived_client_tail
    group by client_number
),

open as (
    select
        l.client_number,
        l.currency,
        l.interval_number,
        l.base_currency,
        l.balance,
        l.cash,
        l.locked,
        l.interval_start as valid_from,
        null::timestamptz as valid_to,
        l.slot_start as last_observed_slot,
        l.interval_observed as observed_snapshots
    from latest as s
    join derived_line_tail as l on l.client_number = s.client_number and l.slot_start = s.slot_start
),

final as (
    select * from closed
    union all
    select * from open
)

select * from final;
