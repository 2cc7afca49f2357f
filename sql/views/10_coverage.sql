-- coverage: per client, the slots the pipeline polled from the client's first attempt on
-- (scheduled_slots: any slot in which any client was polled), those with a successful poll
-- (observed_slots), those with balances (balances_observed_slots, i.e. not restricted without
-- Data), the share observed and the longest run of consecutive scheduled slots without a
-- successful poll (longest_gap_slots, starting at longest_gap_start; 0 and NULL when none).
-- Slots are counted by their rank among the polled slots, so a gap is a difference of ranks:
-- between two consecutive snapshots of the client (derived_snapshots.prev_slot_start), before
-- its first one and after its last one.
create or replace view coverage as
with polled_slots as (
    select slot_start from derived_polled_slots
    union
    -- slots polled since the last refresh (normally none)
    select slot_start from fetch_attempts
    where slot_start > (select coalesce(max(slot_start), '-infinity') from derived_polled_slots)
    union
    select slot_start from balance_snapshots
    where slot_start > (select coalesce(max(slot_start), '-infinity') from derived_polled_slots)
),

ranked as (
    select slot_start, row_number() over (order by slot_start) as slot_rank
    from polled_slots
),

last_rank as (
    select max(slot_rank) as slot_rank, max(slot_start) as slot_start from ranked
),

client_starts as (
    select client_number, min(slot_start) as first_slot
    from (
        select client_number, slot_start from fetch_attempts
        union all
        select client_number, slot_start from balance_snapshots
    )
    group by client_number
),

snapshots as (
    select
        d.client_number,
        d.slot_start,
        d.is_observed,
        r.slot_rank,
        p.slot_rank as prev_rank
    from derived_snapshots as d
    join ranked as r on r.slot_start = d.slot_start
    left join ranked as p on p.slot_start = d.prev_slot_start
),

per_client as (
    select
        client_number,
        count(*) as observed_slots,
        count(*) filter (where is_observed) as balances_observed_slots,
        min(slot_rank) as first_rank,
        max(slot_rank) as last_rank,
        max(slot_rank - prev_rank - 1) as longest_between,
        -- the longest gap, the earliest of equals: one integer key (ranks are < 2^32)
        arg_max(prev_rank + 1, (slot_rank - prev_rank - 1) * 4294967296 - prev_rank)
            filter (where slot_rank - prev_rank - 1 > 0) as longest_between_start
    from snapshots
    group by client_number
),

gaps as (
    -- every candidate for the longest gap: (length, first rank of the gap)
    select
        c.client_number,
        unnest([
            {'slots': coalesce(p.first_rank, l.slot_rank + 1) - r.slot_rank,
             'start': r.slot_rank},
            {'slots': coalesce(p.longest_between, 0), 'start': p.longest_between_start},
            {'slots': l.slot_rank - coalesce(p.last_rank, l.slot_rank), 'start': p.last_rank + 1}
        ]) as gap
    from client_starts as c
    join ranked as r on r.slot_start = c.first_slot
    cross join last_rank as l
    left join per_client as p on p.client_number = c.client_number
),

longest_gaps as (
    select
        client_number,
        arg_min(gap, [-gap.slots, gap.start]) filter (where gap.slots > 0) as gap
    from gaps
    group by client_number
),

final as (
    select
        c.client_number,
        c.first_slot,
        l.slot_start as last_slot,
        l.slot_rank - r.slot_rank + 1 as scheduled_slots,
        coalesce(p.observed_slots, 0) as observed_slots,
        coalesce(p.balances_observed_slots, 0) as balances_observed_slots,
        coalesce(p.observed_slots, 0) / (l.slot_rank - r.slot_rank + 1) as share_observed,
        coalesce(g.gap.slots, 0) as longest_gap_slots,
        s.slot_start as longest_gap_start
    from client_starts as c
    join ranked as r on r.slot_start = c.first_slot
    cross join last_rank as l
    left join per_client as p on p.client_number = c.client_number
    left join longest_gaps as g on g.client_number = c.client_number
    left join ranked as s on s.slot_rank = g.gap.start
)

select * from final;
