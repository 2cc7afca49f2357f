-- One client's balance history: every observed slot and currency in a time range, with the
-- change since the client's previous observed snapshot (vanished currencies show as 0).
-- param: client_number BIGINT  the client
-- param: since TIMESTAMPTZ = 1970-01-01T00:00:00Z  first slot, inclusive (ISO-8601, UTC unless an offset is given)
-- param: until TIMESTAMPTZ = 9999-12-31T00:00:00Z  last slot, exclusive
with pairs as (
    -- derived_line_pairs: the rows of the client's first observed snapshot have no previous
    -- slot, so they show as they were, without a change
    select *
    from derived_line_pairs
    where client_number = $client_number
        and slot_start >= $since
        and slot_start < $until
),

final as (
    select
        client_number,
        slot_start,
        currency,
        base_currency,
        balance,
        cash,
        locked,
        value_base,
        rate as implied_rate,
        case when prev_slot_start is not null then balance - prev_balance end as balance_change
    from pairs
)

select * from final
order by slot_start, currency;
