-- fetch_outcomes: HTTP attempts per slot and outcome word in the period.
select slot_start, outcome, count(*) as attempts
from fetch_attempts
group by slot_start, outcome
order by slot_start, outcome;
