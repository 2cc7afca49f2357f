-- clients: every client with a snapshot in the period, its label and how many status changes and
-- balance changes it had (the report's default client is the first: the most eventful).
with transitions as (
    select client_number, count(*) filter (where is_transition) as status_changes
    from account_status_history
    group by client_number
),

changes as (
    select client_number, count(*) as balance_changes
    from balance_changes
    group by client_number
)

select
    s.client_number,
    c.label,
    coalesce(t.status_changes, 0) as status_changes,
    coalesce(b.balance_changes, 0) as balance_changes
from (select distinct client_number from balance_snapshots) as s
left join clients as c using (client_number)
left join transitions as t using (client_number)
left join changes as b using (client_number)
order by status_changes desc, balance_changes desc, s.client_number;
