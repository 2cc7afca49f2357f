-- With each new client tail, every currency the client ever held, as of the window's end:
-- present ones with their newest line, open interval and open lock episode; absent ones with
-- their interval and episode counts only. A client whose window observed nothing keeps its
-- stored currencies as they were.
create or replace temp table derived_new_line_tail as
with tails as (
    select t.client_number, t.slot_start as tail_slot, w.last_observed_slot, w.last_observed_seq
    from derived_new_client_tail as t
    left join derived_window_clients as w on w.client_number = t.client_number
),

currencies as (
    select client_number, currency from derived_base_lines
    union
    select client_number, currency from derived_window_lines where in_range and is_observed
),

started as (
    select
        client_number,
        currency,
        sum(starts_interval::integer) as intervals_started,
        sum(starts_episode::integer) as episodes_started
    from derived_pair_events
    group by client_number, currency
),

present_at_end as (
    select l.client_number, l.currency
    from derived_window_lines as l
    semi join tails as t
        on t.client_number = l.client_number and t.last_observed_slot = l.slot_start
),

open_intervals as (
    select *
    from derived_interval_starts
    qualify interval_group = max(interval_group) over (partition by client_number, currency)
),

open_episodes as (
    select *
    from derived_episodes
    qualify episode_group = max(episode_group) over (partition by client_number, currency)
),

state as (
    select
        t.client_number,
        t.tail_slot,
        c.currency,
        t.last_observed_slot is null as carried,
        t.last_observed_seq,
        b.present as was_present,
        e.currency is not null as now_present,
        coalesce(b.interval_number, 0) + coalesce(p.intervals_started, 0) as interval_number,
        coalesce(b.episode_number, 0) + coalesce(p.episodes_started, 0) as episode_number,
        b.slot_start as base_slot,
        b.observed_at as base_observed_at,
        b.base_currency as base_base_currency,
        b.balance as base_balance,
        b.cash as base_cash,
        b.locked as base_locked,
        b.value_base as base_value_base,
        b.implied_rate as base_implied_rate,
        b.interval_start as base_interval_start,
        b.interval_observed as base_interval_observed,
        b.episode_start as base_episode_start,
        b.episode_locked_slots as base_episode_locked_slots,
        b.episode_peak as base_episode_peak,
        b.plateau_slots as base_plateau_slots,
        b.episode_longest_plateau as base_episode_longest_plateau
    from tails as t
    join currencies as c on c.client_number = t.client_number
    left join derived_base_lines as b
        on b.client_number = c.client_number and b.currency = c.currency
    left join started as p on p.client_number = c.client_number and p.currency = c.currency
    left join present_at_end as e on e.client_number = c.client_number and e.currency = c.currency
),

carried as (
    select
        client_number, tail_slot, currency, was_present as present, base_slot as slot_start,
        base_observed_at as observed_at, base_base_currency as base_currency,
        base_balance as balance, base_cash as cash, base_locked as locked,
        base_value_base as value_base, base_implied_rate as implied_rate, interval_number,
        base_interval_start as interval_start, base_interval_observed as interval_observed,
        episode_number, base_episode_start as episode_start,
        base_episode_locked_slots as episode_locked_slots, base_episode_peak as episode_peak,
        base_plateau_slots as plateau_slots,
        base_episode_longest_plateau as episode_longest_plateau
    from state
    where carried
),

absent as (
    select
        client_number, tail_slot, currency, false as present, null::timestamptz as slot_start,
        null::timestamptz as observed_at, null::varchar as base_currency,
        null::decimal(38, 8) as balance, null::decimal(38, 8) as cash,
        null::decimal(38, 8) as locked, null::decimal(38, 2) as value_base,
        null::double as implied_rate, interval_number, null::timestamptz as interval_start,
        null::bigint as interval_observed, episode_number, null::timestamptz as episode_start,
        null::bigint as episode_locked_slots, null::decimal(38, 8) as episode_peak,
        null::bigint as plateau_slots, null::bigint as episode_longest_plateau
    from state
    where not carried and not now_present
),

present as (
    select
        s.client_number,
        s.tail_slot,
        s.currency,
        true as present,
        l.slot_start,
        l.observed_at,
        l.base_currency,
        l.balance,
        l.cash,
        l.locked,
        l.value_base,
        l.implied_rate,
        s.interval_number,
        i.valid_from as interval_start,
        s.last_observed_seq - i.start_seq + 1 as interval_observed,
        s.episode_number,
        case when l.locked <> 0 then e.episode_start end as episode_start,
        case when l.locked <> 0 then s.last_observed_seq - e.episode_seq + 1 end
            as episode_locked_slots,
        case when l.locked <> 0 then e.peak_locked end as episode_peak,
        case when l.locked <> 0 then e.plateau_slots end as plateau_slots,
        case when l.locked <> 0 then e.longest_unchanged_slots end as episode_longest_plateau
    from state as s
    join tails as t on t.client_number = s.client_number
    join derived_window_lines as l
        on l.client_number = s.client_number
        and l.currency = s.currency
        and l.slot_start = t.last_observed_slot
    join open_intervals as i on i.client_number = s.client_number and i.currency = s.currency
    left join open_episodes as e on e.client_number = s.client_number and e.currency = s.currency
    where not s.carried and s.now_present
)

select * from carried
union all by name
select * from absent
union all by name
select * from present;
