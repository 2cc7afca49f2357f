-- Remove the stored per-slot rows of {table} for the slots of [$from, $to) (all clients).
delete from {table}
where slot_start >= $from and slot_start < $to;
