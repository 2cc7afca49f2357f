-- Compaction, step 3: write the period back clustered ({order}): one client's rows of the
-- period then sit in one or two row groups, which one-client reads find by their zone maps.
insert into {table} by name
select * from derived_compact
order by {order};
