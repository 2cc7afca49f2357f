-- Clients that need no poll in a slot of [$first, $last]: a snapshot, or an answer that can
-- become one (landed but not yet normalized, e.g. after a crash or a full disk). A real API
-- cannot answer for a past slot, and asking twice would only duplicate raw rows.
select slot_start, client_number
from balance_snapshots
where slot_start between $first and $last
union
select slot_start, client_number
from fetch_attempts
where slot_start between $first and $last
  and outcome in ('ok', 'restricted');
