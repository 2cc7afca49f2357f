-- derived_line_pairs rows of the recomputed observations: every currency of an observed snapshot
-- and of the client's previous observed one (gone from Data: vanished, zeros; new: appeared),
-- then, per (client, currency) in slot order from the carried-in state, the balance interval
-- (same balance and cash) and the lock episode (locked <> 0, with plateaus of one amount).
create or replace temp table derived_new_line_pairs as
with current_side as (
    select
        client_number, currency, slot_start, prev_observed_slot as prev_slot_start,
        base_currency, balance, cash, locked, value_base, implied_rate
    from derived_window_lines
    where in_range and is_observed
),

-- each observed line seen from the next observed snapshot of its client
previous_side as (
    select
        client_number, currency, next_observed_slot as slot_start, slot_start as prev_slot_start,
        base_currency, balance, cash, locked, value_base, implied_rate
    from derived_window_lines
    where is_observed and next_observed_slot >= $from
),

pairs as (
    select
        coalesce(c.client_number, p.client_number) as client_number,
        coalesce(c.currency, p.currency) as currency,
        coalesce(c.slot_start, p.slot_start) as slot_start,
        coalesce(c.prev_slot_start, p.prev_slot_start) as prev_slot_start,
        coalesce(c.base_currency, p.base_currency) as base_currency,
        p.base_currency as prev_base_currency,
        coalesce(c.balance, 0)::decimal(38, 8) as balance,
        coalesce(p.balance, 0)::decimal(38, 8) as prev_balance,
        coalesce(c.cash, 0)::decimal(38, 8) as cash,
        coalesce(p.cash, 0)::decimal(38, 8) as prev_cash,
        coalesce(c.locked, 0)::decimal(38, 8) as locked,
        coalesce(p.locked, 0)::decimal(38, 8) as prev_locked,
        coalesce(c.value_base, 0)::decimal(38, 2) as value_base,
        coalesce(p.value_base, 0)::decimal(38, 2) as prev_value_base,
        c.implied_rate as rate,
        p.implied_rate as prev_rate,
        c.currency is null as vanished,
        p.currency is not null as prev_present
    from current_side as c
    full join previous_side as p
        on p.client_number = c.client_number
        and p.currency = c.currency
        and p.slot_start = c.slot_start
),

flagged as (
    select
        *,
        prev_slot_start is not null and not prev_present as appeared,
        not vanished
            and (not prev_present or balance <> prev_balance or cash <> prev_cash)
            as starts_interval,
        prev_present
            and (vanished or balance <> prev_balance or cash <> prev_cash) as closes_interval,
        not vanished and locked <> 0 as is_locked,
        prev_present and prev_locked <> 0 as prev_is_locked
    from pairs
),

flagged_locks as (
    select
        *,
        is_locked and not prev_is_locked as starts_episode,
        prev_is_locked and not is_locked as closes_episode,
        is_locked and (not prev_is_locked or prev_locked <> locked) as starts_plateau
    from flagged
),

-- groups: 0 continues the carried-in interval / episode / plateau, n the n-th new one
grouped as (
    select
        *,
        sum(starts_interval::integer) over by_key as interval_group,
        sum(starts_episode::integer) over by_key as episode_group,
        sum(starts_plateau::integer) over by_key as plateau_group,
        max(case when starts_interval then slot_start end) over by_key as last_interval_start,
        max(case when starts_episode then slot_start end) over by_key as last_episode_start,
        row_number() over by_key as position
    from flagged_locks
    window by_key as (
        partition by client_number, currency order by slot_start
        rows between unbounded preceding and current row
    )
),

state as (
    select
        g.*,
        coalesce(b.interval_number, 0) + g.interval_group as interval_number,
        case when not g.vanished then
            case when g.interval_group = 0 then b.interval_start else g.last_interval_start end
        end as interval_start,
        case when not g.vanished then
            sum((not g.vanished)::integer) over (
                partition by g.client_number, g.currency, g.interval_group
                order by g.slot_start rows between unbounded preceding and current row
            ) + case when g.interval_group = 0 then coalesce(b.interval_observed, 0) else 0 end
        end as interval_observed,
        coalesce(b.episode_number, 0) + g.episode_group as episode_number,
        case when g.is_locked then
            case when g.episode_group = 0 then b.episode_start else g.last_episode_start end
        end as episode_start,
        case when g.is_locked then
            sum(g.is_locked::integer) over (
                partition by g.client_number, g.currency, g.episode_group
                order by g.slot_start rows between unbounded preceding and current row
            ) + case when g.episode_group = 0 then coalesce(b.episode_locked_slots, 0) else 0 end
        end as episode_locked_slots,
        case when g.is_locked then
            greatest(
                max(g.locked) over (
                    partition by g.client_number, g.currency, g.episode_group
                    order by g.slot_start rows between unbounded preceding and current row
                ),
                case when g.episode_group = 0 then b.episode_peak end
            )
        end as episode_peak,
        case when g.is_locked then
            sum(g.is_locked::integer) over (
                partition by g.client_number, g.currency, g.plateau_group
                order by g.slot_start rows between unbounded preceding and current row
            ) + case when g.plateau_group = 0 then coalesce(b.plateau_slots, 0) else 0 end
        end as plateau_slots,
        b.interval_start as base_interval_start,
        b.interval_observed as base_interval_observed,
        b.episode_start as base_episode_start,
        b.episode_locked_slots as base_episode_locked_slots,
        b.episode_peak as base_episode_peak,
        b.episode_longest_plateau as base_episode_longest_plateau
    from grouped as g
    left join derived_base_line_state as b
        on b.client_number = g.client_number and b.currency = g.currency
),

longest as (
    select
        *,
        case when is_locked then
            greatest(
                max(plateau_slots) over (
                    partition by client_number, currency, episode_group
                    order by slot_start rows between unbounded preceding and current row
                ),
                case when episode_group = 0 then base_episode_longest_plateau end
            )
        end as episode_longest_plateau
    from state
),

-- what closes here is the previous observation's interval / episode: the previous row of the
-- key, or the carried-in state for the key's first row of the window
closing as (
    select
        *,
        case when closes_interval then
            case when position = 1 then base_interval_start
                else lag(interval_start) over by_key end
        end as closed_interval_start,
        case when closes_interval then
            case when position = 1 then base_interval_observed
                else lag(interval_observed) over by_key end
        end as closed_interval_observed,
        case when closes_episode then
            case when position = 1 then base_episode_start
                else lag(episode_start) over by_key end
        end as closed_episode_start,
        case when closes_episode then
            case when position = 1 then base_episode_locked_slots
                else lag(episode_locked_slots) over by_key end
        end as closed_episode_locked_slots,
        case when closes_episode then
            case when position = 1 then base_episode_peak
                else lag(episode_peak) over by_key end
        end as closed_episode_peak,
        case when closes_episode then
            case when position = 1 then base_episode_longest_plateau
                else lag(episode_longest_plateau) over by_key end
        end as closed_episode_longest_plateau
    from longest
    window by_key as (partition by client_number, currency order by slot_start)
),

final as (
    select
        client_number,
        currency,
        slot_start,
        prev_slot_start,
        base_currency,
        prev_base_currency,
        balance,
        case when prev_slot_start is not null then prev_balance end as prev_balance,
        cash,
        case when prev_slot_start is not null then prev_cash end as prev_cash,
        locked,
        case when prev_slot_start is not null then prev_locked end as prev_locked,
        value_base,
        case when prev_slot_start is not null then prev_value_base end as prev_value_base,
        rate,
        prev_rate,
        appeared,
        vanished,
        interval_number,
        interval_start,
        interval_observed,
        closes_interval,
        closed_interval_start,
        closed_interval_observed,
        episode_number,
        episode_start,
        episode_locked_slots,
        episode_peak,
        plateau_slots,
        episode_longest_plateau,
        closes_episode,
        closed_episode_start,
        closed_episode_locked_slots,
        closed_episode_peak,
        closed_episode_longest_plateau
    from closing
)

select * from final;
