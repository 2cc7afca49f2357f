-- The slots of [$from, $to) in which any client was polled (an attempt or a snapshot).
create or replace temp table derived_new_polled_slots as
select slot_start from fetch_attempts where slot_start >= $from and slot_start < $to
union
select slot_start from balance_snapshots where slot_start >= $from and slot_start < $to;
