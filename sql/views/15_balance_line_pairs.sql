-- balance_line_pairs: every currency of every pair of consecutive observed snapshots of a client.
-- A currency present in the previous snapshot and missing from the next one is a line at 0
-- (vanished); its return is a line from 0. Pairs skip failed or missed polls: those are "not
-- observed", never a zero. Basis of balance_changes and value_attribution.
-- Read from derived_line_pairs (computed when the snapshot is written); a client's first
-- observed snapshot has no pair.
create or replace view balance_line_pairs as
with pairs as (
    select *
    from derived_line_pairs
    where prev_slot_start is not null
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
        prev_cash,
        cash,
        prev_locked,
        locked,
        prev_value_base,
        value_base,
        prev_rate,
        rate,
        appeared,
        vanished
    from pairs
)

select * from final;
