-- A client statement over a period: opening and closing balance per currency, every change in
-- between (with its kind), lock episodes and account status changes, one row per event in time
-- order. `event` is opening, change, lock, status or closing.
-- param: client_number BIGINT  the client
-- param: since TIMESTAMPTZ = 1970-01-01T00:00:00Z  start of the period, inclusive
-- param: until TIMESTAMPTZ = 9999-12-31T00:00:00Z  end of the period, exclusive
with lines as (
    select l.*
    from balance_lines as l
    where l.client_number = $client_number
        and l.slot_start >= $since
        and l.slot_start < $until
),

bounds as (
    select currency, min(slot_start) as first_slot, max(slot_start) as last_slot
    from lines
    group by currency
),

opening as (
    select 'opening' as event, l.slot_start as event_at, l.currency, l.balance, l.cash, l.locked,
        l.value_base, null::decimal(38, 8) as change, null as detail
    from lines as l
    join bounds as b on b.currency = l.currency and b.first_slot = l.slot_start
),

closing as (
    select 'closing' as event, l.slot_start as event_at, l.currency, l.balance, l.cash, l.locked,
        l.value_base, null::decimal(38, 8) as change, null as detail
    from lines as l
    join bounds as b on b.currency = l.currency and b.last_slot = l.slot_start
),

changes as (
    select 'change' as event, c.slot_start as event_at, c.currency, c.balance, c.cash, c.locked,
        c.value_base, c.balance_change as change, c.change_kind as detail
    from balance_changes as c
    where c.client_number = $client_number
        and c.slot_start >= $since
        and c.slot_start < $until
),

locks as (
    select 'lock' as event, e.episode_start as event_at, e.currency, null::decimal(38, 8) as balance,
        null::decimal(38, 8) as cash, e.peak_locked as locked, null::decimal(38, 2) as value_base,
        null::decimal(38, 8) as change,
        case when e.is_open then 'open' else 'closed' end
            || case when e.is_stuck then ', stuck' else '' end as detail
    from locked_episodes as e
    where e.client_number = $client_number
        and e.episode_start < $until
        and coalesce(e.episode_end, $until) > $since
),

statuses as (
    select 'status' as event, h.valid_from as event_at, null as currency,
        null::decimal(38, 8) as balance, null::decimal(38, 8) as cash,
        null::decimal(38, 8) as locked, null::decimal(38, 2) as value_base,
        null::decimal(38, 8) as change,
        'ERP ' || coalesce(h.prev_erp_account_status::varchar, '?') || ' -> '
            || coalesce(h.erp_account_status::varchar, '?') || ', web '
            || coalesce(h.prev_web_account_status::varchar, '?') || ' -> '
            || coalesce(h.web_account_status::varchar, '?') as detail
    from account_status_history as h
    where h.client_number = $client_number
        and h.is_transition
        and h.valid_from >= $since
        and h.valid_from < $until
),

final as (
    select * from opening
    union all select * from changes
    union all select * from locks
    union all select * from statuses
    union all select * from closing
)

select $client_number::bigint as client_number, event, event_at, currency, balance, cash, locked,
    value_base, change, detail
from final
order by event_at, case event when 'opening' then 0 when 'closing' then 9 else 5 end,
    currency nulls first;
