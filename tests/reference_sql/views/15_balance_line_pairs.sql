-- balance_line_pairs: every currency of every pair of consecutive observed snapshots of a client.
-- A currency present in the previous snapshot and missing from the next one is a line at 0
-- (vanished); its return is a line from 0. Pairs skip failed or missed polls: those are "not
-- observed", never a zero. Basis of balance_changes and value_attribution.
create or replace view balance_line_pairs as
with snapshots as (
    select client_number, prev_slot_start, slot_start
    from observed_snapshots
    where prev_slot_start is not null
),

lines as (
    select client_number, slot_start, currency, base_currency, balance, cash, locked,
        value_base, implied_rate
    from balance_lines
),

previous_side as (
    select s.client_number, s.prev_slot_start, s.slot_start, p.currency
    from snapshots as s
    join lines as p on p.client_number = s.client_number and p.slot_start = s.prev_slot_start
),

current_side as (
    select s.client_number, s.prev_slot_start, s.slot_start, c.currency
    from snapshots as s
    join lines as c on c.client_number = s.client_number and c.slot_start = s.slot_start
),

pair_currencies as (
    select * from previous_side
    union
    select * from current_side
),

final as (
    select
        k.client_number,
        k.currency,
        k.prev_slot_start,
        k.slot_start,
        coalesce(c.base_currency, p.base_currency) as base_currency,
        coalesce(p.balance, 0)::decimal(38, 8) as prev_balance,
        coalesce(c.balance, 0)::decimal(38, 8) as balance,
        coalesce(p.cash, 0)::decimal(38, 8) as prev_cash,
        coalesce(c.cash, 0)::decimal(38, 8) as cash,
        coalesce(p.locked, 0)::decimal(38, 8) as prev_locked,
        coalesce(c.locked, 0)::decimal(38, 8) as locked,
        coalesce(p.value_base, 0)::decimal(38, 2) as prev_value_base,
        coalesce(c.value_base, 0)::decimal(38, 2) as value_base,
        p.implied_rate as prev_rate,
        c.implied_rate as rate,
        p.currency is null as appeared,
        c.currency is null as vanished
    from pair_currencies as k
    left join lines as p
        on p.client_number = k.client_number
        and p.slot_start = k.prev_slot_start
        and p.currency = k.currency
    left join lines as c
        on c.client_number = k.client_number
        and c.slot_start = k.slot_start
        and c.currency = k.currency
)

select * from final;
