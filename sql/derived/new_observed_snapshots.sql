-- Observed snapshots whose next observed snapshot is recomputed (it owns them): the closed rows
-- of observed_snapshots, with both neighbours.
create or replace temp table derived_new_observed_snapshots as
select
    client_number,
    slot_start,
    snapshot_id,
    observed_at,
    base_currency,
    total_floating_balance,
    line_count,
    is_restricted,
    prev_observed_slot as prev_slot_start,
    next_observed_slot as next_slot_start
from derived_window_snapshots
where is_observed
  and next_observed_slot is not null
  and (tail_slot is null or next_observed_slot > tail_slot);
