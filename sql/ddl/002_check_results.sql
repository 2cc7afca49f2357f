-- Data-quality check results: an audit log, one row per check per evaluation (re-running a check
-- adds a row on purpose), so data quality can be charted over time.
create table if not exists check_results (
    check_name      varchar not null,        -- the property asserted, e.g. balance_lines_have_unique_keys
    asset           varchar not null,        -- the table checked (the Dagster asset key)
    evaluated_at    timestamptz not null,
    passed          boolean not null,
    severity        varchar not null,        -- 'ERROR' or 'WARN'
    offending_rows  bigint not null,
    details         json,                    -- a sample of the offending rows and the parameters
    slot_from       timestamptz,             -- the slots a slot check evaluated: [slot_from, slot_to)
    slot_to         timestamptz              -- (both NULL for a whole-book check)
);
