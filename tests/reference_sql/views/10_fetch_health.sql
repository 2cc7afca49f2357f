-- fetch_health: per client, HTTP attempts and their outcome: successes are 'ok' and
-- 'restricted' (a snapshot was kept), everything else is a failure; the last success and the
-- last failure with its outcome word and error text (never a secret).
create or replace view fetch_health as
with attempts as (
    select
        client_number, slot_start, requested_at, outcome, error,
        outcome in ('ok', 'restricted') as succeeded
    from fetch_attempts
),

final as (
    select
        client_number,
        count(*) as attempts,
        count(*) filter (where succeeded) as successes,
        count(*) filter (where not succeeded) as failures,
        count(*) filter (where succeeded) / count(*) as success_share,
        count(distinct slot_start) as slots_attempted,
        max(requested_at) as last_attempt_at,
        max(requested_at) filter (where succeeded) as last_success_at,
        max(slot_start) filter (where succeeded) as last_success_slot,
        max(requested_at) filter (where not succeeded) as last_failure_at,
        arg_max(outcome, requested_at) filter (where not succeeded) as last_failure_outcome,
        arg_max(error, requested_at) filter (where not succeeded) as last_error
    from attempts
    group by client_number
)

select * from final;
