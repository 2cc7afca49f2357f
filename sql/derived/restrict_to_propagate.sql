-- Restrict the next refresh to the clients whose later rows must follow a changed state, from
-- the earliest of their window ends.
create or replace temp table derived_restrict as
select client_number from derived_propagate;
