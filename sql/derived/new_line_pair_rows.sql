-- derived_line_pairs rows of the recomputed observations (the first snapshot's lines have no
-- previous values); a view, so the rows are not copied once more.
create or replace temp view derived_new_line_pairs as
select
    client_number,
    currency,
    slot_start,
    prev_slot_start,
    base_currency,
    balance,
    case when has_prev then prev_balance end as prev_balance,
    cash,
    case when has_prev then prev_cash end as prev_cash,
    locked,
    case when has_prev then prev_locked end as prev_locked,
    value_base,
    case when has_prev then prev_value_base end as prev_value_base,
    rate,
    prev_rate,
    appeared,
    vanished,
    changed,
    quantity_effect,
    fx_effect,
    residual
from derived_pairs;
