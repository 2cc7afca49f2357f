-- Periods already rewritten clustered by client.
select distinct period_start, period_end
from maintenance_compactions;
