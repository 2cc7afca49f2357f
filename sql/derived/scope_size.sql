-- How many clients the refresh recomputes.
select count(*) from derived_scope;
