-- Remove the stored rows of {table} owned ({owner}) by the snapshots a refresh recomputes: per
-- client of derived_scope, from $from to $to, or through its upper_slot with $extend (to the
-- end when NULL).
delete from {table} as d
using derived_scope as k
where d.client_number = k.client_number
  and d.{owner} >= $from
  and (d.{owner} < $to or ($extend and (k.upper_slot is null or d.{owner} <= k.upper_slot)));
