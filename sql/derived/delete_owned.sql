-- Remove the stored rows of {table} owned ({owner}) by the snapshots a refresh recomputes: per
-- client of derived_scope, those after its tail_slot and before $to, or through its upper_slot
-- with $extend (to the end when NULL).
delete from {table} as d
using derived_scope as k
where d.{owner} > $after
  and d.{owner} <= $until
  and d.client_number = k.client_number
  and (k.tail_slot is null or d.{owner} > k.tail_slot)
  and (d.{owner} < $to or ($extend and (k.upper_slot is null or d.{owner} <= k.upper_slot)));
