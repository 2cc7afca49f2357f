-- Clients whose recomputed state at the end of their window (the window's last observation,
-- upper_slot) differs from the stored one, or whose interval / episode counters changed: every
-- later row of theirs carries that state, so it must be recomputed too. Compared before the
-- stored rows are replaced.
create or replace temp table derived_propagate as
with ends as (
    select client_number, upper_slot
    from derived_scope
    where upper_slot is not null
),

stored_snapshots as (
    select d.client_number, d.status_interval_number, d.status_interval_start,
        d.status_interval_snapshots
    from derived_snapshots as d
    join ends as e on e.client_number = d.client_number and e.upper_slot = d.slot_start
),

new_snapshots as (
    select n.client_number, n.status_interval_number, n.status_interval_start,
        n.status_interval_snapshots
    from derived_new_snapshots as n
    join ends as e on e.client_number = n.client_number and e.upper_slot = n.slot_start
),

stored_lines as (
    select d.*
    from derived_line_pairs as d
    join ends as e on e.client_number = d.client_number and e.upper_slot = d.slot_start
),

new_lines as (
    select n.*
    from derived_new_line_pairs as n
    join ends as e on e.client_number = n.client_number and e.upper_slot = n.slot_start
),

stored_counters as (
    select d.client_number, d.currency, max(d.interval_number) as intervals,
        max(d.episode_number) as episodes
    from derived_line_pairs as d
    join ends as e on e.client_number = d.client_number
    where d.slot_start >= $from and d.slot_start <= e.upper_slot
    group by d.client_number, d.currency
),

new_counters as (
    select n.client_number, n.currency, max(n.interval_number) as intervals,
        max(n.episode_number) as episodes
    from derived_new_line_pairs as n
    semi join ends as e on e.client_number = n.client_number
    group by n.client_number, n.currency
),

differences as (
    select client_number from (from stored_snapshots except all from new_snapshots)
    union all
    select client_number from (from new_snapshots except all from stored_snapshots)
    union all
    select client_number from (from stored_lines except all from new_lines)
    union all
    select client_number from (from new_lines except all from stored_lines)
    union all
    select client_number from (from stored_counters except all from new_counters)
    union all
    select client_number from (from new_counters except all from stored_counters)
)

select distinct d.client_number, e.upper_slot
from differences as d
join ends as e on e.client_number = d.client_number;
