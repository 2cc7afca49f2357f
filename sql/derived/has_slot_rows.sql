-- Whether per-slot rows of [$from, $to) are stored already (else the refresh only appends).
select exists (
    select 1 from derived_slot_totals where slot_start >= $from and slot_start < $to
) or exists (
    select 1 from derived_fx_rate_outliers where slot_start >= $from and slot_start < $to
) or exists (
    select 1 from derived_polled_slots where slot_start >= $from and slot_start < $to
) or exists (
    select 1 from derived_repeat_attempts where slot_start >= $from and slot_start < $to
) as has_stored;
