-- fetch_health: per client, HTTP attempts and their outcome: successes are 'ok' and
-- 'restricted' (a snapshot was kept), everything else is a failure; the last success and the
-- last failure with its outcome word and error text (never a secret).
-- slots_attempted is the attempts less the repeats within a slot (derived_repeat_attempts,
-- counted when the round is refreshed; live for slots polled since), not a distinct count.
create or replace view fetch_health as
with attempts as (
    select
        client_number, slot_start, requested_at, outcome, error,
        outcome in ('ok', 'restricted') as succeeded
    from fetch_attempts
),

refreshed_through as (
    select coalesce(max(slot_start), '-infinity') as slot_start from derived_polled_slots
),

repeats as (
    select client_number, extra_attempts
    from derived_repeat_attempts
    where slot_start <= (select slot_start from refreshed_through)
    union all
    select client_number, count(*) - 1
    from fetch_attempts
    where slot_start > (select slot_start from refreshed_through)
    group by client_number, slot_start
    having count(*) > 1
),

repeats_per_client as (
    select client_number, sum(extra_attempts) as extra_attempts
    from repeats
    group by client_number
),

per_client as (
    select
        client_number,
        count(*) as attempts,
        count(*) filter (where succeeded) as successes,
        count(*) filter (where not succeeded) as failures,
        max(requested_at) as last_attempt_at,
        max(requested_at) filter (where succeeded) as last_success_at,
        max(slot_start) filter (where succeeded) as last_success_slot,
        max(requested_at) filter (where not succeeded) as last_failure_at,
        arg_max(outcome, requested_at) filter (where not succeeded) as last_failure_outcome,
        arg_max(error, requested_at) filter (where not succeeded) as last_error
    from attempts
    group by client_number
),

final as (
    select
        p.client_number,
        p.attempts,
        p.successes,
        p.failures,
        p.successes / p.attempts as success_share,
        (p.attempts - coalesce(r.extra_attempts, 0))::bigint as slots_attempted,
        p.last_attempt_at,
        p.last_success_at,
        p.last_success_slot,
        p.last_failure_at,
        p.last_failure_outcome,
        p.last_error
    from per_client as p
    left join repeats_per_client as r on r.client_number = p.client_number
)

select * from final;
