-- Append check outcomes (registered as incoming_check_results) to the check_results audit log.
insert into check_results (
    check_name, asset, evaluated_at, passed, severity, offending_rows, details, slot_from, slot_to
)
select
    check_name, asset, $at, passed, severity, offending_rows, details::json, slot_from, slot_to
from incoming_check_results;
