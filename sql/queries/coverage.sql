-- How completely each client was observed: scheduled slots, observed slots, share, longest gap.
-- Worst covered first.
-- param: below DOUBLE = 1.01  only clients whose observed share is below this (1.01: everyone)
select client_number, first_slot, last_slot, scheduled_slots, observed_slots,
    balances_observed_slots, share_observed, longest_gap_slots, longest_gap_start
from coverage
where share_observed < $below
order by share_observed, longest_gap_slots desc, client_number;
