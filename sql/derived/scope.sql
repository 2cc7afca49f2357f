-- The clients a refresh of [$from, $to) recomputes and, per client, the snapshots it reads. It
-- starts from the client's newest state stored before $from (its tail at tail_slot; none: from
-- the client's first snapshot) and recomputes every snapshot after tail_slot, through its second
-- observed snapshot at or after $to (upper_slot): the observations after the range pair with the
-- range's last one, and the state there tells whether later rows must follow. Without $extend
-- (a rebuild in slot order: the next batch starts where this one ends) it stops at $to.
-- $client_lo..$client_hi (optional, inclusive) restricts the refresh to a range of clients (one
-- client, or a replay batch of a compacted period: its client range is all those row groups
-- hold); derived_restrict (when $restrict) to a list of clients.
create or replace temp table derived_scope as
with touched as (
    select client_number
    from balance_snapshots
    where slot_start >= $from and slot_start < $to
      and ($client_lo::bigint is null
           or client_number between $client_lo::bigint and $client_hi::bigint)
    union
    select client_number
    from derived_snapshots
    where slot_start >= $from and slot_start < $to
      and ($client_lo::bigint is null
           or client_number between $client_lo::bigint and $client_hi::bigint)
),

chosen as (
    select client_number
    from touched
    where (not $restrict or client_number in (select client_number from derived_restrict))
),

newest_before as (
    select t.client_number, max(t.slot_start) as tail_slot
    from derived_client_tail as t
    semi join chosen as c on c.client_number = t.client_number
    where t.slot_start < $from
    group by t.client_number
),

base as (
    select t.client_number, t.slot_start as tail_slot, t.observed_slot_start, t.prev_slot_start
    from derived_client_tail as t
    join newest_before as n on n.client_number = t.client_number and n.tail_slot = t.slot_start
),

later as (
    select s.client_number, min(s.slot_start, 2) as observed_after
    from balance_snapshots as s
    semi join chosen as c on c.client_number = s.client_number
    where s.slot_start >= $to
      and not (s.is_restricted and s.line_count = 0 and s.base_currency is null)
    group by s.client_number
)

select
    c.client_number,
    b.tail_slot,
    b.observed_slot_start as base_observed_slot,
    b.prev_slot_start as base_observed_prev,
    coalesce(b.observed_slot_start, b.tail_slot) as lower_slot,
    case when len(l.observed_after) = 2 then l.observed_after[2] end as upper_slot
from chosen as c
left join base as b on b.client_number = c.client_number
left join later as l on l.client_number = c.client_number;
