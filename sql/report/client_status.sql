-- client_status: one client's account status intervals in the period (oldest first).
select
    valid_from,
    valid_to,
    observed_snapshots,
    erp_account_status,
    erp_account_status_text,
    web_account_status,
    web_account_status_text,
    is_transition,
    prev_erp_account_status,
    prev_web_account_status
from account_status_history
where client_number = $client
order by valid_from;
