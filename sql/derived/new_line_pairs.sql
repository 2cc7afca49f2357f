-- derived_line_pairs rows of the recomputed observations: every currency of an observed snapshot
-- and of the client's previous observed one (gone from Data: vanished, zeros; new: appeared),
-- then, per (client, currency) in slot order from the carried-in state, the balance interval
-- (same balance and cash) and the lock episode (locked <> 0, with plateaus of one amount).
-- Runs are consecutive observations, so a run's length is a difference of the client's observed
-- ordinals (observed_seq): one window pass finds the latest starts, a second the peak and the
-- longest plateau over each episode's rows.
create or replace temp table derived_new_line_pairs as
with current_side as (
    select
        client_number, currency, slot_start, prev_observed_slot as prev_slot_start,
        base_currency, balance, cash, locked, value_base, implied_rate, observed_seq,
        base_observed_seq
    from derived_window_lines
    where in_range and is_observed
),

-- each observed line seen from the next observed snapshot of its client
previous_side as (
    select
        client_number, currency, next_observed_slot as slot_start, slot_start as prev_slot_start,
        base_currency, balance, cash, locked, value_base, implied_rate,
        observed_seq + 1 as observed_seq, base_observed_seq
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
        p.currency is not null as prev_present,
        coalesce(c.observed_seq, p.observed_seq) as seq,
        coalesce(c.base_observed_seq, p.base_observed_seq) as base_seq
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

-- pass 1: how many intervals / episodes started so far, and the latest starts at or before
-- each row and strictly before it (the previous observation's); NULL: carried in from the base
starts as (
    select
        *,
        sum(starts_interval::integer) over upto_here as intervals_so_far,
        sum(starts_episode::integer) over upto_here as episodes_so_far,
        max(case when starts_interval then slot_start end) over upto_here as interval_slot,
        max(case when starts_interval then seq end) over upto_here as interval_seq,
        max(case when starts_interval then slot_start end) over before_here
            as prev_interval_slot,
        max(case when starts_interval then seq end) over before_here as prev_interval_seq,
        max(case when starts_episode then slot_start end) over upto_here as episode_slot,
        max(case when starts_episode then seq end) over upto_here as episode_seq,
        max(case when starts_episode then slot_start end) over before_here
            as prev_episode_slot,
        max(case when starts_episode then seq end) over before_here as prev_episode_seq,
        max(case when starts_plateau then seq end) over upto_here as plateau_seq
    from flagged_locks
    window
        upto_here as (
            partition by client_number, currency order by slot_start
            rows between unbounded preceding and current row
        ),
        before_here as (
            partition by client_number, currency order by slot_start
            rows between unbounded preceding and 1 preceding
        )
),

state as (
    select
        s.*,
        (coalesce(b.interval_number, 0) + s.intervals_so_far)::bigint as interval_number,
        case when not s.vanished then coalesce(s.interval_slot, b.interval_start) end
            as interval_start,
        case when not s.vanished then
            case
                when s.interval_seq is not null then s.seq - s.interval_seq + 1
                else b.interval_observed + s.seq - s.base_seq
            end
        end::bigint as interval_observed,
        case when s.closes_interval then coalesce(s.prev_interval_slot, b.interval_start) end
            as closed_interval_start,
        case when s.closes_interval then
            case
                when s.prev_interval_seq is not null then s.seq - s.prev_interval_seq
                else b.interval_observed + s.seq - 1 - s.base_seq
            end
        end::bigint as closed_interval_observed,
        (coalesce(b.episode_number, 0) + s.episodes_so_far)::bigint as episode_number,
        case when s.is_locked then coalesce(s.episode_slot, b.episode_start) end
            as episode_start,
        case when s.is_locked then
            case
                when s.episode_seq is not null then s.seq - s.episode_seq + 1
                else b.episode_locked_slots + s.seq - s.base_seq
            end
        end::bigint as episode_locked_slots,
        case when s.is_locked then
            case
                when s.plateau_seq is not null then s.seq - s.plateau_seq + 1
                else b.plateau_slots + s.seq - s.base_seq
            end
        end::bigint as plateau_slots,
        case when s.closes_episode then coalesce(s.prev_episode_slot, b.episode_start) end
            as closed_episode_start,
        case when s.closes_episode then
            case
                when s.prev_episode_seq is not null then s.seq - s.prev_episode_seq
                else b.episode_locked_slots + s.seq - 1 - s.base_seq
            end
        end::bigint as closed_episode_locked_slots,
        -- the episode's rows inside the window, up to this row and up to the previous one
        -- (0 where unused: a frame bound may not be NULL)
        case when s.is_locked then
            coalesce(s.seq - s.episode_seq, s.seq - s.base_seq - 1)
        else 0 end as episode_rows_before,
        case when s.closes_episode then
            coalesce(s.seq - s.prev_episode_seq, s.seq - s.base_seq - 1)
        else 0 end as closed_episode_rows,
        case when s.episode_seq is null then b.episode_peak end as base_peak,
        case when s.episode_seq is null then b.episode_longest_plateau end as base_longest,
        case when s.prev_episode_seq is null then b.episode_peak end as closed_base_peak,
        case when s.prev_episode_seq is null then b.episode_longest_plateau end
            as closed_base_longest
    from starts as s
    left join derived_base_line_state as b
        on b.client_number = s.client_number and b.currency = s.currency
),

-- pass 2: the largest lock and the longest plateau over the episode's rows (and the carried-in
-- episode's, when it continues)
peaks as (
    select
        *,
        case when is_locked then
            greatest(
                max(locked) over (
                    partition by client_number, currency order by slot_start
                    rows between episode_rows_before preceding and current row
                ),
                base_peak
            )
        end as episode_peak,
        case when is_locked then
            greatest(
                max(plateau_slots) over (
                    partition by client_number, currency order by slot_start
                    rows between episode_rows_before preceding and current row
                ),
                base_longest
            )
        end as episode_longest_plateau,
        case when closes_episode then
            greatest(
                max(locked) over (
                    partition by client_number, currency order by slot_start
                    rows between closed_episode_rows preceding and 1 preceding
                ),
                closed_base_peak
            )
        end as closed_episode_peak,
        case when closes_episode then
            greatest(
                max(plateau_slots) over (
                    partition by client_number, currency order by slot_start
                    rows between closed_episode_rows preceding and 1 preceding
                ),
                closed_base_longest
            )
        end as closed_episode_longest_plateau
    from state
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
    from peaks
)

select * from final;
