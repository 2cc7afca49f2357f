-- The refresh's overall slot bounds as constants, so that scans skip the row groups outside
-- them: the earliest snapshot any window reads (lower), the latest state it starts from
-- (after: rows owned at or before it stay), and the latest snapshot it recomputes (until).
select
    case when bool_or(lower_slot is null) then null else min(lower_slot) end as lower_bound,
    case when bool_or(tail_slot is null) then null else min(tail_slot) end as after_bound,
    case when $extend then
        case when bool_or(upper_slot is null) then null else max(upper_slot) end
    end as until_bound
from derived_scope;
