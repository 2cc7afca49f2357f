-- Offending rows: (run_id, slot_start, client_number, attempt) recorded more than once. No
-- index refuses one (sql/ddl/001_tables.sql): the landing's anti-join keeps them apart.
select run_id, slot_start, client_number, attempt, count(*) as copies
from fetch_attempts
group by run_id, slot_start, client_number, attempt
having count(*) > 1
order by slot_start, client_number, run_id, attempt;
