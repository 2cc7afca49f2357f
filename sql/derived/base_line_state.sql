-- The state each (client, currency) carries into the window: its row in the client's stored tail
-- (present at the base observation or not), with the base observation's ordinal.
create or replace temp table derived_base_lines as
select
    t.*,
    w.base_observed_seq as base_seq
from derived_line_tail as t
join derived_scope as k on k.client_number = t.client_number and k.tail_slot = t.tail_slot
left join derived_window_clients as w on w.client_number = t.client_number;
