insert into balance_snapshots by name
select * from fresh_snapshots;
