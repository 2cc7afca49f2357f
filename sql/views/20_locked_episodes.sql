-- locked_episodes: per client and currency, runs of consecutive observed snapshots with a
-- non-zero lock. episode_end is the first observed snapshot without a lock (locked 0 or the
-- currency gone), NULL while the episode is open; failed or missed polls do not end it.
-- duration_hours runs to episode_end (while open: to the last locked snapshot). peak_locked is
-- the largest lock; longest_unchanged_slots the longest run of observed snapshots with the same
-- locked amount; a lock unchanged for more than 24 observed snapshots is flagged is_stuck.
-- Read from derived facts: closed episodes are stored when they end; the open ones are the
-- state of each client's locked currencies in its current tail.
create or replace view locked_episodes as
with closed as (
    select
        client_number,
        currency,
        episode_number,
        episode_start,
        episode_end,
        last_locked_slot,
        peak_locked,
        last_locked,
        locked_slots,
        longest_unchanged_slots
    from derived_closed_episodes
),

current_lines as (
    -- each client's currencies in its current tail row (derived_client_tail's newest)
    select l.*
    from derived_line_tail as l
    semi join (
        select client_number, max(slot_start) as slot_start
        from derived_client_tail
        group by client_number
    ) as n on n.client_number = l.client_number and n.slot_start = l.tail_slot
    where l.present
),

open as (
    select
        client_number,
        currency,
        episode_number,
        episode_start,
        null::timestamptz as episode_end,
        slot_start as last_locked_slot,
        episode_peak as peak_locked,
        locked as last_locked,
        episode_locked_slots as locked_slots,
        episode_longest_plateau as longest_unchanged_slots
    from current_lines
    where locked <> 0
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
