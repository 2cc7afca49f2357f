-- Whether any derived row of the refresh's clients is stored in their windows already: when
-- none is (an append at the end of history), the refresh only inserts.
select exists (
    select 1
    from derived_snapshots as d
    join derived_scope as k on k.client_number = d.client_number
    where d.slot_start > $after
      and d.slot_start <= $until
      and (k.tail_slot is null or d.slot_start > k.tail_slot)
      and (d.slot_start < $to or ($extend and (k.upper_slot is null or d.slot_start <= k.upper_slot)))
) or exists (
    select 1
    from derived_client_tail as d
    join derived_scope as k on k.client_number = d.client_number
    where d.slot_start > $after
      and d.slot_start <= $until
      and (k.tail_slot is null or d.slot_start > k.tail_slot)
      and (d.slot_start < $to or ($extend and (k.upper_slot is null or d.slot_start <= k.upper_slot)))
) as has_stored;
