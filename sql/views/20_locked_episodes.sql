-- locked_episodes: per client and currency, runs of consecutive observed snapshots with a
-- non-zero lock. episode_end is the first observed snapshot without a lock (locked 0 or the
-- currency gone), NULL while the episode is open; failed or missed polls do not end it.
-- duration_hours runs to episode_end (while open: to the last locked snapshot). peak_locked is
-- the largest lock; longest_unchanged_slots the longest run of observed snapshots with the same
-- locked amount; a lock unchanged for more than 24 observed snapshots is flagged is_stuck.
-- Read from derived facts: a closed episode is the state carried by the pair that ends it; an
-- open one is the state of the client's newest observed lines.
create or replace view locked_episodes as
with closed as (
    select
        client_number,
        currency,
        episode_number,
        closed_episode_start as episode_start,
        slot_start as episode_end,
        prev_slot_start as last_locked_slot,
        closed_episode_peak as peak_locked,
        prev_locked as last_locked,
        closed_episode_locked_slots as locked_slots,
        closed_episode_longest_plateau as longest_unchanged_slots
    from derived_line_pairs
    where closes_episode
),

latest as (
    select client_number, max(observed_slot_start) as slot_start
    from derived_client_tail
    group by client_number
),

open as (
    select
        l.client_number,
        l.currency,
        l.episode_number,
        l.episode_start,
        null::timestamptz as episode_end,
        l.slot_start as last_locked_slot,
        l.episode_peak as peak_locked,
        l.locked as last_locked,
        l.episode_locked_slots as locked_slots,
        l.episode_longest_plateau as longest_unchanged_slots
    from latest as s
    join derived_line_tail as l on l.client_number = s.client_number and l.slot_start = s.slot_start
    where l.locked <> 0
),

episodes as (
    select * from closed
    union all
    select * from open
),

final as (
    select
        client_number,
        currency,
        episode_number,
        episode_start,
        episode_end,
        episode_end is null as is_open,
        (epoch(coalesce(episode_end, last_locked_slot)) - epoch(episode_start)) / 3600
            as duration_hours,
        last_locked_slot,
        peak_locked,
        last_locked,
        locked_slots,
        longest_unchanged_slots,
        longest_unchanged_slots > 24 as is_stuck
    from episodes
)

select * from final;
