-- Final outcome per client of one run: the last attempt of each client and slot.
with last_attempts as (
    select outcome
    from fetch_attempts
    where run_id = $run_id
    qualify row_number() over (
        partition by slot_start, client_number order by attempt desc
    ) = 1
)
select outcome, count(*) as clients
from last_attempts
group by outcome
order by outcome;
