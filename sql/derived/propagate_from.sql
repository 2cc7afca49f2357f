-- Where the clients of derived_propagate need their history recomputed from (NULL: nobody).
select min(upper_slot) from derived_propagate;
