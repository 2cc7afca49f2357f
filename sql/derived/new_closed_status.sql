-- Account-status intervals that end in the window (at the next start): the rows of
-- derived_closed_status.
create or replace temp table derived_new_closed_status as
select
    p.client_number,
    p.interval_number::bigint as interval_number,
    p.slot_start as valid_from,
    n.slot_start as valid_to,
    n.prev_slot_start as last_observed_slot,
    (n.any_seq - p.any_seq)::bigint as observed_snapshots,
    p.erp_account_status,
    p.erp_account_status_text,
    p.web_account_status,
    p.web_account_status_text,
    p.prev_erp_account_status,
    p.prev_web_account_status
from derived_status_starts as n
join derived_status_starts as p
    on p.client_number = n.client_number and p.status_group = n.status_group - 1
where n.starts_status_interval and n.prev_slot_start is not null;
