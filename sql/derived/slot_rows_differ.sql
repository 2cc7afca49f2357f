-- Whether the stored rows of {table} for the slots of [$from, $to) differ from their
-- recomputation in {new_table}: each row counts +1 stored and -1 recomputed, and any row whose
-- count does not come to zero is on one side only (or more often on one).
select exists (
    select * exclude (side), sum(side)
    from (
        select *, 1 as side from {table} where slot_start >= $from and slot_start < $to
        union all by name
        select *, -1 as side from {new_table}
    ) as both_sides
    group by all
    having sum(side) <> 0
) as differ;
