-- Snapshots of the batch whose recomputed row differs from the stored one, by key:
-- inserted (new key), deleted (no longer produced) or updated (any column differs).
-- EXCEPT compares whole rows and treats NULLs as equal.
create or replace temp table replay_snapshot_changes as
with stored as (
    select
        client_number, slot_start, snapshot_id, observed_at, response_code, response_message,
        erp_account_status, erp_account_status_text, web_account_status,
        web_account_status_text, agency, base_currency, total_floating_balance, line_count,
        is_restricted, raw_id
    from balance_snapshots
    where slot_start >= $from
      and slot_start < $to
      and ($client_lo::bigint is null
           or client_number between $client_lo::bigint and $client_hi::bigint)
),
fresh as (
    select
        client_number, slot_start, snapshot_id, observed_at, response_code, response_message,
        erp_account_status, erp_account_status_text, web_account_status,
        web_account_status_text, agency, base_currency, total_floating_balance, line_count,
        is_restricted, raw_id
    from replay_snapshots
),
added as (select client_number, slot_start from (from fresh except from stored)),
removed as (select client_number, slot_start from (from stored except from fresh))
select
    coalesce(a.client_number, r.client_number) as client_number,
    coalesce(a.slot_start, r.slot_start) as slot_start,
    case
        when r.client_number is null then 'inserted'
        when a.client_number is null then 'deleted'
        else 'updated'
    end as change
from added as a
full join removed as r
    on a.client_number = r.client_number
   and a.slot_start = r.slot_start;
