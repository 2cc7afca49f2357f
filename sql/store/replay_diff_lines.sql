-- Lines of the batch whose recomputed row differs from the stored one, keyed by
-- (client, slot, currency): inserted, deleted or updated, as for snapshots.
create or replace temp table replay_line_changes as
with stored as (
    select
        client_number, slot_start, currency, snapshot_id, observed_at, base_currency,
        balance, value_base, cash, locked, implied_rate
    from balance_lines
    where slot_start >= $from
      and slot_start < $to
      and ($client_lo::bigint is null
           or client_number between $client_lo::bigint and $client_hi::bigint)
),
fresh as (
    select
        client_number, slot_start, currency, snapshot_id, observed_at, base_currency,
        balance, value_base, cash, locked, implied_rate
    from replay_lines
),
added as (select client_number, slot_start, currency from (from fresh except from stored)),
removed as (select client_number, slot_start, currency from (from stored except from fresh))
select
    coalesce(a.client_number, r.client_number) as client_number,
    coalesce(a.slot_start, r.slot_start) as slot_start,
    coalesce(a.currency, r.currency) as currency,
    case
        when r.client_number is null then 'inserted'
        when a.client_number is null then 'deleted'
        else 'updated'
    end as change
from added as a
full join removed as r
    on a.client_number = r.client_number
   and a.slot_start = r.slot_start
   and a.currency = r.currency;
