-- Lock plateaus of the window (runs of one non-zero locked amount) and the episodes they form
-- (runs of locked observations). A row per plateau start and per episode end; the episode
-- carried in (group 0) is one virtual plateau start placed so that lengths are differences of
-- ordinals, with the peak and longest plateau it had so far. A plateau lasts until the next row
-- of its currency, or to the window's last observation when none follows.
create or replace temp table derived_plateaus as
with events as (
    select
        p.client_number,
        p.currency,
        p.slot_start,
        p.prev_slot_start,
        p.seq,
        p.locked,
        p.prev_locked,
        p.starts_episode,
        p.starts_plateau,
        p.closes_episode,
        false as carried,
        null::timestamptz as carried_episode_start,
        null::bigint as carried_episode_seq,
        null::decimal(38, 8) as carried_peak,
        null::bigint as carried_longest
    from derived_pair_events as p
    where p.starts_plateau or p.closes_episode
),

carried as (
    select
        b.client_number,
        b.currency,
        null::timestamptz as slot_start,
        null::timestamptz as prev_slot_start,
        b.base_seq - b.plateau_slots + 1 as seq,
        b.locked,
        null::decimal(38, 8) as prev_locked,
        false as starts_episode,
        true as starts_plateau,
        false as closes_episode,
        true as carried,
        b.episode_start as carried_episode_start,
        b.base_seq - b.episode_locked_slots + 1 as carried_episode_seq,
        b.episode_peak as carried_peak,
        b.episode_longest_plateau as carried_longest
    from derived_base_lines as b
    -- only where the client was observed again in the window (else the tail carries it as is)
    -- (the currency, locked at the base observation, has a row at the next one, in the window)
    semi join derived_window_clients as w
        on w.client_number = b.client_number and w.last_observed_seq > b.base_seq
    where b.present and b.locked <> 0
),

ordered as (
    select
        e.*,
        sum(e.starts_episode::integer) over (
            partition by e.client_number, e.currency order by e.seq
            rows between unbounded preceding and current row
        )::bigint as episode_group,
        lead(e.seq) over (partition by e.client_number, e.currency order by e.seq) as next_seq
    from (select * from events union all select * from carried) as e
),

window_ends as (
    select client_number, last_observed_seq from derived_window_clients
)

select
    o.*,
    case when o.starts_plateau then
        coalesce(o.next_seq, w.last_observed_seq + 1) - o.seq
    end as plateau_length
from ordered as o
join window_ends as w on w.client_number = o.client_number;
