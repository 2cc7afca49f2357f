-- Clients with later snapshots whose state at the end of the window (their new tail) differs
-- from the one stored for the same snapshot, or has none stored: every later row carries that
-- state, so the rest of their history must be recomputed. Compared before the stored rows are
-- replaced.
create or replace temp table derived_propagate as
with ends as (
    select k.client_number, k.upper_slot, t.slot_start as tail_slot
    from derived_scope as k
    join derived_new_client_tail as t on t.client_number = k.client_number
    where k.upper_slot is not null
),

stored_clients as (
    select d.*
    from derived_client_tail as d
    semi join ends as e on e.client_number = d.client_number and e.tail_slot = d.slot_start
),

new_clients as (
    select n.*
    from derived_new_client_tail as n
    semi join ends as e on e.client_number = n.client_number
),

stored_lines as (
    select d.*
    from derived_line_tail as d
    semi join ends as e on e.client_number = d.client_number and e.tail_slot = d.tail_slot
),

new_lines as (
    select n.*
    from derived_new_line_tail as n
    semi join ends as e on e.client_number = n.client_number
),

differences as (
    select client_number from (from stored_clients except all from new_clients)
    union all
    select client_number from (from new_clients except all from stored_clients)
    union all
    select client_number from (from stored_lines except all from new_lines)
    union all
    select client_number from (from new_lines except all from stored_lines)
)

select distinct e.client_number, e.upper_slot
from ends as e
where e.client_number in (select client_number from differences);
