-- Lock episodes of the window, one row per (client, currency, episode group): its number (from
-- the carried-in count), start, peak and longest plateau, and its end when it closes here. The
-- closed ones are the rows of derived_closed_episodes; an open one is its currency's tail state.
create or replace temp table derived_episodes as
with groups as (
    select
        client_number,
        currency,
        episode_group,
        max(case when starts_episode then slot_start end) as started_at,
        max(case when starts_episode then seq end) as started_seq,
        max(carried_episode_start) as carried_start,
        max(carried_episode_seq) as carried_seq,
        max(locked) filter (where starts_plateau) as plateau_peak,
        max(carried_peak) as carried_peak,
        max(plateau_length) as plateau_longest,
        max(carried_longest) as carried_longest,
        arg_max(plateau_length, seq) filter (where starts_plateau) as last_plateau_length,
        max(slot_start) filter (where closes_episode) as episode_end,
        max(prev_slot_start) filter (where closes_episode) as last_locked_slot,
        max(prev_locked) filter (where closes_episode) as last_locked,
        max(seq) filter (where closes_episode) as end_seq
    from derived_plateaus
    group by client_number, currency, episode_group
)

select
    g.client_number,
    g.currency,
    g.episode_group,
    (coalesce(b.episode_number, 0) + g.episode_group)::bigint as episode_number,
    coalesce(g.started_at, g.carried_start) as episode_start,
    coalesce(g.started_seq, g.carried_seq) as episode_seq,
    greatest(g.plateau_peak, g.carried_peak) as peak_locked,
    greatest(g.plateau_longest, g.carried_longest)::bigint as longest_unchanged_slots,
    g.last_plateau_length::bigint as plateau_slots,
    g.episode_end,
    g.last_locked_slot,
    g.last_locked,
    (g.end_seq - coalesce(g.started_seq, g.carried_seq))::bigint as locked_slots
from groups as g
left join derived_base_lines as b
    on b.client_number = g.client_number and b.currency = g.currency;
