-- The earliest slot the database holds, polled (fetch_attempts) or imported (raw_responses):
-- where Dagster's partitions start when PIPELINE_START is unset. NULL for an empty database.
select least(
    (select min(slot_start) from fetch_attempts),
    (select min(slot_start) from raw_responses)
) as first_slot;
