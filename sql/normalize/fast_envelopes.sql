-- The fast route's parse (pipeline/normalize/fast.py): bodies that passed the grammar gate,
-- read by DuckDB's JSON reader into a struct whose money fields are DECIMAL(38,8)/(38,2), so
-- no number passes through a float. $structure declares the batch's base currencies.
-- has_total_key (from the text) passes through: a Total_ key's base is the body's base even
-- when its value is null, which the struct cannot show.
select _row, has_total_key, from_json(body, $structure) as doc
from fast_bodies;
