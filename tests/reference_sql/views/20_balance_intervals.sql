-- balance_intervals: SCD2 validity intervals of each client's balance and cash per currency.
-- An interval starts at the first observed snapshot with a new (balance, cash) and ends
-- (valid_to, exclusive) at the next observed snapshot of the same client where the currency has
-- another balance or cash or is gone from Data. Failed or missed polls never close an interval;
-- valid_to is NULL while the interval is current.
create or replace view balance_intervals as
with snapshots as (
    select client_number, slot_start, prev_slot_start, next_slot_start
    from observed_snapshots
),

lines as (
    select l.client_number, l.currency, l.slot_start, l.base_currency, l.balance, l.cash,
        l.locked, s.prev_slot_start, s.next_slot_start
    from balance_lines as l
    join snapshots as s on s.client_number = l.client_number and s.slot_start = l.slot_start
),

flagged as (
    select
        c.*,
        (p.client_number is null or p.balance <> c.balance or p.cash <> c.cash) as starts_interval
    from lines as c
    left join balance_lines as p
        on p.client_number = c.client_number
        and p.currency = c.currency
        and p.slot_start = c.prev_slot_start
),

numbered as (
    select
        *,
        sum(starts_interval::integer) over (
            partition by client_number, currency order by slot_start
            rows between unbounded preceding and current row
        )::bigint as interval_number
    from flagged
),

final as (
    select
        client_number,
        currency,
        interval_number,
        any_value(base_currency) as base_currency,
        any_value(balance) as balance,
        any_value(cash) as cash,
        any_value(locked) as locked,
        min(slot_start) as valid_from,
        arg_max_null(next_slot_start, slot_start) as valid_to,
        max(slot_start) as last_observed_slot,
        count(*) as observed_snapshots
    from numbered
    group by client_number, currency, interval_number
)

select * from final;
