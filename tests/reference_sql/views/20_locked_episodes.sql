-- locked_episodes: per client and currency, runs of consecutive observed snapshots with a
-- non-zero lock. episode_end is the first observed snapshot without a lock (locked 0 or the
-- currency gone), NULL while the episode is open; failed or missed polls do not end it.
-- duration_hours runs to episode_end (while open: to the last locked snapshot). peak_locked is
-- the largest lock; longest_unchanged_slots the longest run of observed snapshots with the same
-- locked amount; a lock unchanged for more than 24 observed snapshots is flagged is_stuck.
create or replace view locked_episodes as
with snapshots as (
    select client_number, slot_start, prev_slot_start, next_slot_start
    from observed_snapshots
),

lines as (
    select s.client_number, s.slot_start, s.prev_slot_start, s.next_slot_start, l.currency,
        l.locked, coalesce(l.locked, 0) <> 0 as is_locked
    from balance_lines as l
    join snapshots as s on s.client_number = l.client_number and s.slot_start = l.slot_start
),

-- only locked lines matter; a lock starts an episode unless the previous observed snapshot of
-- the client had this currency locked too
locked_lines as (
    select
        c.*,
        p.locked as prev_locked,
        coalesce(p.locked, 0) = 0 as starts_episode
    from lines as c
    left join balance_lines as p
        on p.client_number = c.client_number
        and p.currency = c.currency
        and p.slot_start = c.prev_slot_start
    where c.is_locked
),

numbered as (
    select
        *,
        (sum(starts_episode::integer) over by_currency)::bigint as episode_number,
        coalesce(prev_locked <> locked, true) as starts_plateau
    from locked_lines
    window by_currency as (
        partition by client_number, currency order by slot_start
        rows between unbounded preceding and current row
    )
),

plateaus as (
    select
        *,
        sum(starts_plateau::integer) over (
            partition by client_number, currency order by slot_start
            rows between unbounded preceding and current row
        )::bigint as plateau_number
    from numbered
),

plateau_lengths as (
    select client_number, currency, episode_number, plateau_number, count(*) as slots
    from plateaus
    group by all
),

episodes as (
    select
        client_number,
        currency,
        episode_number,
        min(slot_start) as episode_start,
        arg_max_null(next_slot_start, slot_start) as episode_end,
        max(slot_start) as last_locked_slot,
        max(locked) as peak_locked,
        arg_max(locked, slot_start) as last_locked,
        count(*) as locked_slots
    from plateaus
    group by client_number, currency, episode_number
),

final as (
    select
        e.client_number,
        e.currency,
        e.episode_number,
        e.episode_start,
        e.episode_end,
        e.episode_end is null as is_open,
        (epoch(coalesce(e.episode_end, e.last_locked_slot)) - epoch(e.episode_start)) / 3600
            as duration_hours,
        e.last_locked_slot,
        e.peak_locked,
        e.last_locked,
        e.locked_slots,
        max(p.slots) as longest_unchanged_slots,
        max(p.slots) > 24 as is_stuck
    from episodes as e
    join plateau_lengths as p using (client_number, currency, episode_number)
    group by all
)

select * from final;
