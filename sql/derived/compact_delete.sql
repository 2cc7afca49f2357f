-- Compaction, step 2: remove the period's rows from {table}.
delete from {table}
where {slot} >= $from and {slot} < $to;
