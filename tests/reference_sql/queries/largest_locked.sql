-- The largest locked amounts now: locked funds in each client's latest observed snapshot,
-- largest value in the base currency first, with the lock's episode (since when, stuck or not).
-- param: limit INTEGER = 20  how many rows
with latest as (
    select client_number, currency, slot_start, base_currency, balance, cash, locked,
        round(locked::double * coalesce(implied_rate, 0), 2)::decimal(38, 2) as locked_value_base
    from latest_balances
    where locked <> 0
),

open_episodes as (
    select client_number, currency, episode_start, longest_unchanged_slots, is_stuck
    from locked_episodes
    where is_open
),

final as (
    select l.*, e.episode_start as locked_since, e.longest_unchanged_slots, e.is_stuck
    from latest as l
    left join open_episodes as e using (client_number, currency)
)

select * from final
order by abs(locked_value_base) desc, client_number, currency
limit $limit;
