-- The list a refresh can be restricted to (derived_scope reads it when $restrict); empty.
create or replace temp table derived_restrict (client_number bigint);
