-- Lock episodes that end in the window: the rows of derived_closed_episodes.
create or replace temp view derived_new_closed_episodes as
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
from derived_episodes
where episode_end is not null;
