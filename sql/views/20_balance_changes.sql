-- balance_changes: per client and currency, each pair of consecutive observed snapshots in which
-- the balance or the cash changed. A currency that vanished from Data is a change to 0
-- (change_kind 'vanished'), its return a change from 0 ('appeared'). A failed or missed poll in
-- between is not observed: the pair spans it and shows no zero.
-- Read from derived_line_pairs, whose `changed` was computed when the snapshot was written.
create or replace view balance_changes as
with changed as (
    select *
    from derived_line_pairs
    where changed
),

final as (
    select
        client_number,
        currency,
        prev_slot_start,
        slot_start,
        base_currency,
        prev_balance,
        balance,
        balance - prev_balance as balance_change,
        prev_cash,
        cash,
        cash - prev_cash as cash_change,
        prev_locked,
        locked,
        locked - prev_locked as locked_change,
        prev_value_base,
        value_base,
        value_base - prev_value_base as value_change,
        case
            when appeared then 'appeared'
            when vanished then 'vanished'
            else 'changed'
        end as change_kind
    from changed
)

select * from final;
