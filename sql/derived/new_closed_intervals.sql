-- Balance intervals that close in the window (at a change or when the currency is gone), with
-- their start from derived_interval_starts: the rows of derived_closed_intervals.
create or replace temp table derived_new_closed_intervals as
with closes as (
    select
        client_number,
        currency,
        slot_start,
        prev_slot_start,
        seq,
        prev_base_currency,
        prev_balance,
        prev_cash,
        prev_locked,
        sum(starts_interval::integer) over (
            partition by client_number, currency order by slot_start
            rows between unbounded preceding and current row
        )::bigint - case when starts_interval then 1 else 0 end as interval_group,
        closes_interval
    from derived_pair_events
    where starts_interval or closes_interval
)

select
    c.client_number,
    c.currency,
    s.interval_number::bigint as interval_number,
    c.prev_base_currency as base_currency,
    c.prev_balance as balance,
    c.prev_cash as cash,
    c.prev_locked as locked,
    s.valid_from,
    c.slot_start as valid_to,
    c.prev_slot_start as last_observed_slot,
    (c.seq - s.start_seq)::bigint as observed_snapshots
from closes as c
join derived_interval_starts as s
    on s.client_number = c.client_number
    and s.currency = c.currency
    and s.interval_group = c.interval_group
where c.closes_interval;
