-- The snapshots a refresh reads, per client of derived_scope, with the pointers between them:
-- the previous snapshot of any kind, and for observed ones the previous and next observed one.
-- Ordinals count the window's snapshots (any_seq) and observed snapshots (observed_seq) per
-- client: consecutive observations differ by one, so the length of a run is a difference of
-- ordinals. in_range: the snapshot's derived rows are recomputed (the others are context).
create or replace temp table derived_window_snapshots as
with snapshots as (
    select
        s.client_number,
        s.slot_start,
        s.snapshot_id,
        s.observed_at,
        s.base_currency,
        s.total_floating_balance,
        s.line_count,
        s.is_restricted,
        s.erp_account_status,
        s.erp_account_status_text,
        s.web_account_status,
        s.web_account_status_text,
        not (s.is_restricted and s.line_count = 0 and s.base_currency is null) as is_observed,
        k.tail_slot is null or s.slot_start > k.tail_slot as in_range,
        k.tail_slot,
        k.base_observed_slot,
        k.base_observed_prev
    from balance_snapshots as s
    join derived_scope as k on k.client_number = s.client_number
    where s.slot_start >= $lower
      and s.slot_start <= $until
      and (k.lower_slot is null or s.slot_start >= k.lower_slot)
      and (
          s.slot_start < $to
          or ($extend and (k.upper_slot is null or s.slot_start <= k.upper_slot))
      )
),

pointed as (
    select
        *,
        lag(slot_start) over by_client as prev_slot_start,
        lag(erp_account_status) over by_client as prev_erp_account_status,
        lag(web_account_status) over by_client as prev_web_account_status,
        row_number() over by_client as any_seq,
        sum(is_observed::integer) over (
            partition by client_number order by slot_start
            rows between unbounded preceding and current row
        )::bigint as observed_seq,
        case when is_observed then
            coalesce(
                lag(slot_start) over by_kind,
                -- the base observation's previous one is before the window: from its tail
                case when slot_start = base_observed_slot then base_observed_prev end
            )
        end as prev_observed_slot,
        case when is_observed then lead(slot_start) over by_kind end as next_observed_slot
    from snapshots
    window
        by_client as (partition by client_number order by slot_start),
        by_kind as (partition by client_number, is_observed order by slot_start)
),

final as (
    select * from pointed
)

select * from final;
