-- Remove stored lines that are no longer produced or that change (re-inserted next).
delete from balance_lines as l
using replay_line_changes as c
where l.client_number = c.client_number
  and l.slot_start = c.slot_start
  and l.currency = c.currency
  and c.change in ('deleted', 'updated')
  -- the batch's slots and clients only: the scan then skips the row groups of other slots
  -- (zone maps), and in a compacted period, where row groups hold clients, of other clients
  and l.slot_start between (select min(slot_start) from replay_line_changes)
                         and (select max(slot_start) from replay_line_changes)
  and l.client_number between (select min(client_number) from replay_line_changes)
                             and (select max(client_number) from replay_line_changes);
