-- (client, slot) of [$from, $to) attempted more than once, and how many more times.
create or replace temp table derived_new_repeat_attempts as
select client_number, slot_start, count(*) - 1 as extra_attempts
from fetch_attempts
where slot_start >= $from and slot_start < $to
group by client_number, slot_start
having count(*) > 1;
