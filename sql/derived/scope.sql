-- The clients a refresh of [$from, $to) recomputes and, per client, the snapshots it reads:
-- from its two observed snapshots before $from (base_observed_slot, whose state carries in, and
-- the one before it, the previous one of the base) through its second observed snapshot at or
-- after $to (upper_slot): the observations after the range pair with the range's last one, and
-- their state is compared with the stored one to decide whether later rows must follow. Without
-- $extend (a rebuild in slot order, whose next batch starts where this one ends) the window
-- stops at $to.
-- $client (optional) restricts the refresh to one client; derived_restrict (when $restrict)
-- to a list of clients.
create or replace temp table derived_scope as
with touched as (
    select client_number
    from balance_snapshots
    where slot_start >= $from and slot_start < $to
    union
    select client_number
    from derived_snapshots
    where slot_start >= $from and slot_start < $to
),

chosen as (
    select client_number
    from touched
    where ($client::bigint is null or client_number = $client::bigint)
      and (not $restrict or client_number in (select client_number from derived_restrict))
),

snapshots as (
    select
        s.client_number,
        s.slot_start,
        not (s.is_restricted and s.line_count = 0 and s.base_currency is null) as is_observed
    from balance_snapshots as s
    semi join chosen as c on c.client_number = s.client_number
),

bounds as (
    select
        client_number,
        max(slot_start) filter (where slot_start < $from) as base_any_slot,
        max(slot_start, 2) filter (where slot_start < $from and is_observed) as before,
        min(slot_start, 2) filter (where slot_start >= $to and is_observed) as after
    from snapshots
    group by client_number
)

select
    c.client_number,
    b.base_any_slot,
    b.before[1] as base_observed_slot,
    coalesce(b.before[2], b.before[1], b.base_any_slot, $from) as lower_slot,
    -- NULL: nothing observed after the range, so every later snapshot is in the window
    case when len(b.after) = 2 then b.after[2] end as upper_slot
from chosen as c
left join bounds as b on b.client_number = c.client_number;
