-- How one run's round ended, per client and slot of its window: the final outcome (last
-- attempt) of every client it polled, plus 'already_complete' for the clients it found
-- complete and skipped (a re-run asks only those that failed before).
with last_attempts as (
    select slot_start, client_number, outcome
    from fetch_attempts
    where run_id = $run_id
    qualify row_number() over (
        partition by slot_start, client_number order by attempt desc
    ) = 1
)
select outcome, count(*) as clients
from last_attempts
group by outcome
union all
select 'already_complete', count(*)
from balance_snapshots as s
where s.slot_start >= $from
  and s.slot_start < $to
  and not exists (
      select 1
      from last_attempts as a
      where a.slot_start = s.slot_start
        and a.client_number = s.client_number
  )
having count(*) > 0;
