-- Remove stored snapshots that are no longer produced or that change (re-inserted next).
delete from balance_snapshots as s
using replay_snapshot_changes as c
where s.client_number = c.client_number
  and s.slot_start = c.slot_start
  and c.change in ('deleted', 'updated')
  -- the batch's slots and clients only: the scan then skips the row groups of other slots
  -- (zone maps), and in a compacted period, where row groups hold clients, of other clients
  and s.slot_start between (select min(slot_start) from replay_snapshot_changes)
                         and (select max(slot_start) from replay_snapshot_changes)
  and s.client_number between (select min(client_number) from replay_snapshot_changes)
                             and (select max(client_number) from replay_snapshot_changes);
