-- The reference route: DuckDB's typed from_json (exact DECIMALs) over the stored bodies,
-- writing both tables with plain SQL. No validation, no rejection, no choice among several
-- answers for one slot, base currency assumed: what "as fast as DuckDB can" looks like.
create or replace temp table parsed as
select raw_id, client_number, slot_start, observed_at, from_json(body, $structure) as j
from raw_responses
where http_status = 200 and body_encoding = 'utf-8' and not body_truncated;
