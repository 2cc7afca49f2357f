-- Append the recomputed rows, clustered by client then slot: one client's history stays in few
-- row groups, which is what one-client reads skip on.
insert into {table} by name
select * from {new_table}
order by {order};
