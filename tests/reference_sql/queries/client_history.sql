-- One client's balance history: every observed slot and currency in a time range, with the
-- change since the client's previous observed snapshot (vanished currencies show as 0).
-- param: client_number BIGINT  the client
-- param: since TIMESTAMPTZ = 1970-01-01T00:00:00Z  first slot, inclusive (ISO-8601, UTC unless an offset is given)
-- param: until TIMESTAMPTZ = 9999-12-31T00:00:00Z  last slot, exclusive
with pairs as (
    select *
    from balance_line_pairs
    where client_number = $client_number
        and slot_start >= $since
        and slot_start < $until
),

first_lines as (
    -- the client's first observed snapshot has no pair: show it as it was
    select l.client_number, l.slot_start, l.currency, l.base_currency, l.balance, l.cash,
        l.locked, l.value_base, l.implied_rate, null::decimal(38, 8) as balance_change
    from balance_lines as l
    join observed_snapshots as s
        on s.client_number = l.client_number
        and s.slot_start = l.slot_start
        and s.prev_slot_start is null
    where l.client_number = $client_number
        and l.slot_start >= $since
        and l.slot_start < $until
),

final as (
    select client_number, slot_start, currency, base_currency, balance, cash, locked,
        value_base, rate as implied_rate, balance - prev_balance as balance_change
    from pairs
    union all
    select * from first_lines
)

select * from final
order by slot_start, currency;
