-- Whether derived rows exist, and whether history does (a file from before the derived tables
-- has snapshots and no derived row).
select
    (select count(*) from derived_snapshots) as derived_rows,
    (select count(*) from balance_snapshots) as snapshots;
