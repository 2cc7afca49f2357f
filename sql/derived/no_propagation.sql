-- No client needs its later rows recomputed (a rebuild, or nobody in scope).
create or replace temp table derived_propagate (client_number bigint, upper_slot timestamptz);
