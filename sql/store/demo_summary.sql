select
    (select count(*) from clients) as clients,
    (select count(*) from balance_snapshots) as snapshots,
    (select count(*) from balance_lines) as lines,
    (select string_agg(distinct currency, ', ' order by currency) from balance_lines) as currencies,
    (select min(slot_start) from balance_snapshots) as first_slot,
    (select max(slot_start) from balance_snapshots) as last_slot,
    (select count(*) from fetch_attempts) as attempts;
