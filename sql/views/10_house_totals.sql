-- house_totals: per slot, currency and base currency, the sums over the clients that answered
-- with balances in that slot (clients not observed in a slot are not carried into it).
-- Read from derived_slot_totals (computed per slot when its lines are written).
create or replace view house_totals as
with totals as (
    select * from derived_slot_totals
),

final as (
    select
        slot_start,
        currency,
        base_currency,
        client_count,
        total_balance,
        total_cash,
        total_locked,
        total_value_base,
        total_negative_balance
    from totals
)

select * from final;
