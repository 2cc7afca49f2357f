-- Whether the stored facts that follow fetch_attempts (polled slots, repeat attempts) of
-- [$from, $to) differ from their recomputation in derived_new_polled_slots and
-- derived_new_repeat_attempts: both directions, so a row missing on either side counts.
with stored_slots as (
    select slot_start from derived_polled_slots where slot_start >= $from and slot_start < $to
),

stored_repeats as (
    select client_number, slot_start, extra_attempts
    from derived_repeat_attempts
    where slot_start >= $from and slot_start < $to
)

select
    exists (select * from derived_new_polled_slots except all select * from stored_slots)
    or exists (select * from stored_slots except all select * from derived_new_polled_slots)
    or exists (
        select client_number, slot_start, extra_attempts from derived_new_repeat_attempts
        except all
        select * from stored_repeats
    )
    or exists (
        select * from stored_repeats
        except all
        select client_number, slot_start, extra_attempts from derived_new_repeat_attempts
    ) as differ;
