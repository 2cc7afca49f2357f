-- The report's period: a temporary copy of balance_lines cut to the slots in [$start, $end]
-- (either bound may be NULL: open). It shadows the table for this connection only, so every view
-- is computed over the period as if history began at $start. Created before anything else in
-- the connection, so the select below still reads the stored table.
create temp table balance_lines as
select *
from balance_lines
where ($start::timestamptz is null or slot_start >= $start::timestamptz)
    and ($end::timestamptz is null or slot_start <= $end::timestamptz);
