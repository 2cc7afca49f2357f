-- A period was rewritten clustered by client (in the rewrite's transaction).
insert into maintenance_compactions (period_start, period_end, compacted_at)
values ($from, $to, $at);
