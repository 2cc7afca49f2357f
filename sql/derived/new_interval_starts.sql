-- Balance intervals of the window. Intervals start where a currency appears or its balance or
-- cash changes, and close at the next observation where it changes or is gone. Numbered per
-- (client, currency) from the carried-in count; group 0 is the interval carried in (its start is
-- placed so that a length is still a difference of ordinals). derived_interval_starts feeds the
-- tails and the closed intervals.
create or replace temp table derived_interval_starts as
with events as (
    select *
    from derived_pair_events
    where starts_interval or closes_interval
),

numbered as (
    select
        *,
        sum(starts_interval::integer) over (
            partition by client_number, currency order by slot_start
            rows between unbounded preceding and current row
        )::bigint as interval_group
    from events
),

real_starts as (
    select
        n.client_number,
        n.currency,
        n.interval_group,
        coalesce(b.interval_number, 0) + n.interval_group as interval_number,
        n.slot_start as valid_from,
        n.seq as start_seq
    from numbered as n
    left join derived_base_lines as b
        on b.client_number = n.client_number and b.currency = n.currency
    where n.starts_interval
),

carried as (
    select
        client_number,
        currency,
        0 as interval_group,
        interval_number,
        interval_start as valid_from,
        base_seq - interval_observed + 1 as start_seq
    from derived_base_lines
    where present
)

select * from real_starts
union all
select * from carried;
