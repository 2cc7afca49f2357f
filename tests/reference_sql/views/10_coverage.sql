-- coverage: per client, the slots the pipeline polled from the client's first attempt on
-- (scheduled_slots: any slot in which any client was polled), those with a successful poll
-- (observed_slots), those with balances (balances_observed_slots, i.e. not restricted without
-- Data), the share observed and the longest run of consecutive scheduled slots without a
-- successful poll (longest_gap_slots, starting at longest_gap_start; 0 and NULL when none).
create or replace view coverage as
with polled_slots as (
    select slot_start from fetch_attempts
    union
    select slot_start from balance_snapshots
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

scheduled as (
    select c.client_number, p.slot_start
    from client_starts as c
    join polled_slots as p on p.slot_start >= c.first_slot
),

marked as (
    select
        s.client_number,
        s.slot_start,
        b.client_number is not null as observed,
        coalesce(not (b.is_restricted and b.line_count = 0 and b.base_currency is null), false)
            as balances_observed
    from scheduled as s
    left join balance_snapshots as b
        on b.client_number = s.client_number and b.slot_start = s.slot_start
),

runs as (
    select
        *,
        row_number() over (partition by client_number order by slot_start)
        - row_number() over (partition by client_number, observed order by slot_start) as run_key
    from marked
),

gaps as (
    select client_number, run_key, min(slot_start) as gap_start, count(*) as gap_slots
    from runs
    where not observed
    group by client_number, run_key
),

longest_gaps as (
    select client_number, gap_start, gap_slots
    from gaps
    qualify row_number() over (
        partition by client_number order by gap_slots desc, gap_start
    ) = 1
),

totals as (
    select
        client_number,
        min(slot_start) as first_slot,
        max(slot_start) as last_slot,
        count(*) as scheduled_slots,
        count(*) filter (where observed) as observed_slots,
        count(*) filter (where balances_observed) as balances_observed_slots
    from marked
    group by client_number
),

final as (
    select
        t.client_number,
        t.first_slot,
        t.last_slot,
        t.scheduled_slots,
        t.observed_slots,
        t.balances_observed_slots,
        t.observed_slots / t.scheduled_slots as share_observed,
        coalesce(g.gap_slots, 0) as longest_gap_slots,
        g.gap_start as longest_gap_start
    from totals as t
    left join longest_gaps as g on g.client_number = t.client_number
)

select * from final;
