-- slot_completeness: per polled slot, whether every client that should have been asked was
-- (shards that missed their run show here). clients_expected: clients polled at least once in
-- the 24 hours up to and including the slot (a client dropped from the clients file stops
-- being expected a day later); clients_attempted: clients with an attempt in the slot, from
-- any shard; clients_observed: clients with a snapshot in the slot; clients_missing: expected
-- but not attempted; is_complete: none missing.
create or replace view slot_completeness as
with slots as (
    select distinct slot_start from fetch_attempts
),

-- Each client's runs of polled slots less than a day apart, as [first, last + 1 day): the
-- slots in which it is expected. (From the attempts, which every file has.)
sighted as (
    select distinct client_number, slot_start as seen_at from fetch_attempts
),

gaps as (
    select
        client_number,
        seen_at,
        coalesce(
            seen_at - lag(seen_at) over (partition by client_number order by seen_at)
            >= interval 1 day,
            true
        ) as starts_run
    from sighted
),

runs as (
    select
        client_number,
        seen_at,
        sum(starts_run::integer) over (
            partition by client_number order by seen_at rows unbounded preceding
        ) as run_number
    from gaps
),

expected_spans as (
    select client_number, min(seen_at) as expected_from, max(seen_at) + interval 1 day as expected_to
    from runs
    group by client_number, run_number
),

expected as (
    select slots.slot_start, count(*) as clients_expected
    from slots
    join expected_spans
        on slots.slot_start >= expected_spans.expected_from
        and slots.slot_start < expected_spans.expected_to
    group by slots.slot_start
),

attempted as (
    select slot_start, count(distinct client_number) as clients_attempted
    from fetch_attempts
    group by slot_start
),

observed as (
    select slot_start, count(*) as clients_observed
    from balance_snapshots
    group by slot_start
),

final as (
    select
        slots.slot_start,
        coalesce(expected.clients_expected, 0) as clients_expected,
        coalesce(attempted.clients_attempted, 0) as clients_attempted,
        coalesce(observed.clients_observed, 0) as clients_observed,
        greatest(
            coalesce(expected.clients_expected, 0) - coalesce(attempted.clients_attempted, 0), 0
        ) as clients_missing
    from slots
    left join expected using (slot_start)
    left join attempted using (slot_start)
    left join observed using (slot_start)
)

select *, clients_missing = 0 as is_complete
from final;
