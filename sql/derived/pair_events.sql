-- The pairs that start or end a balance interval, a lock plateau or a lock episode: the sparse
-- rows the interval and episode steps work on.
create or replace temp table derived_pair_events as
select
    client_number,
    currency,
    slot_start,
    prev_slot_start,
    seq,
    prev_base_currency,
    prev_balance,
    prev_cash,
    prev_locked,
    locked,
    starts_interval,
    closes_interval,
    starts_episode,
    closes_episode,
    starts_plateau
from derived_pairs
where starts_interval or closes_interval or starts_plateau or closes_episode;
