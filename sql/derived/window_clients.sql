-- Per client of the refresh, the ordinals the window continues from (its base snapshot's and
-- base observation's) and ends at (its newest recomputed snapshot and observation).
create or replace temp table derived_window_clients as
select
    client_number,
    max(any_seq) filter (where slot_start = tail_slot) as base_any_seq,
    max(observed_seq) filter (where slot_start = base_observed_slot) as base_observed_seq,
    max(any_seq) filter (where in_range) as last_any_seq,
    max(observed_seq) filter (where in_range and is_observed) as last_observed_seq,
    max(slot_start) filter (where in_range and is_observed) as last_observed_slot
from derived_window_snapshots
group by client_number;
