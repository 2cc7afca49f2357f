-- Derived facts: what the views would otherwise recompute with windows over the whole book on
-- every query (the previous observation, change kinds, closed intervals and lock episodes,
-- per-slot totals). pipeline.store.derived.refresh_derived writes them after every write of
-- snapshots and lines; the views in sql/views read them. Idempotent. No keys and no indexes
-- (the same tables live on DuckLake): refresh_derived replaces the rows it owns, nothing else
-- writes here.
--
-- Ownership: every client row is owned by one snapshot of its client (the `owner` column named
-- below), every per-slot row by its slot. A refresh rewrites the rows owned by what it
-- recomputes, so it is idempotent. Rows that need "the next observation" (a closed interval, a
-- closed observed snapshot) are written when that next observation arrives; the running state
-- of each client after each refresh (the *_tail tables) is what the next refresh starts from.

-- One row per snapshot (owner: slot_start): its previous snapshot of any kind and what
-- snapshot_reconciliation shows.
create table if not exists derived_snapshots (
    client_number           bigint not null,
    slot_start              timestamptz not null,
    prev_slot_start         timestamptz,
    is_observed             boolean not null,  -- not a restricted answer without Data
    snapshot_id             varchar not null,
    base_currency           varchar,
    is_restricted           boolean not null,
    line_count              integer not null,
    reported_total          decimal(38, 2),
    lines_stored            bigint not null,
    lines_value             decimal(38, 2) not null
);

-- Slots in which any client was polled (owner: slot_start).
create table if not exists derived_polled_slots (
    slot_start      timestamptz not null
);

-- Observed snapshots that have a next observed snapshot (owner: next_slot_start).
create table if not exists derived_observed_snapshots (
    client_number           bigint not null,
    slot_start              timestamptz not null,
    snapshot_id             varchar not null,
    observed_at             timestamptz not null,
    base_currency           varchar,
    total_floating_balance  decimal(38, 2),
    line_count              integer not null,
    is_restricted           boolean not null,
    prev_slot_start         timestamptz,
    next_slot_start         timestamptz not null
);

-- Each currency of every observed snapshot and of the client's previous observed snapshot
-- (owner: slot_start): a currency gone from Data is vanished with zeros; the client's first
-- observed snapshot has prev_slot_start NULL. With the change's value attribution.
create table if not exists derived_line_pairs (
    client_number    bigint not null,
    currency         varchar not null,
    slot_start       timestamptz not null,
    prev_slot_start  timestamptz,
    base_currency    varchar,
    balance          decimal(38, 8) not null,
    prev_balance     decimal(38, 8),
    cash             decimal(38, 8) not null,
    prev_cash        decimal(38, 8),
    locked           decimal(38, 8) not null,
    prev_locked      decimal(38, 8),
    value_base       decimal(38, 2) not null,
    prev_value_base  decimal(38, 2),
    rate             double,
    prev_rate        double,
    appeared         boolean not null,
    vanished         boolean not null,
    changed          boolean not null,  -- balance or cash differs from the previous observation
    quantity_effect  decimal(38, 2),
    fx_effect        decimal(38, 2),
    residual         decimal(38, 2)
);

-- Closed balance intervals (owner: valid_to, the observation that ends them).
create table if not exists derived_closed_intervals (
    client_number       bigint not null,
    currency            varchar not null,
    interval_number     bigint not null,
    base_currency       varchar,
    balance             decimal(38, 8) not null,
    cash                decimal(38, 8) not null,
    locked              decimal(38, 8) not null,
    valid_from          timestamptz not null,
    valid_to            timestamptz not null,
    last_observed_slot  timestamptz not null,
    observed_snapshots  bigint not null
);

-- Closed lock episodes (owner: episode_end, the first observation without the lock).
create table if not exists derived_closed_episodes (
    client_number            bigint not null,
    currency                 varchar not null,
    episode_number           bigint not null,
    episode_start            timestamptz not null,
    episode_end              timestamptz not null,
    last_locked_slot         timestamptz not null,
    peak_locked              decimal(38, 8) not null,
    last_locked              decimal(38, 8) not null,
    locked_slots             bigint not null,
    longest_unchanged_slots  bigint not null
);

-- Closed account-status intervals (owner: valid_to, the snapshot with the next status).
create table if not exists derived_closed_status (
    client_number            bigint not null,
    interval_number          bigint not null,
    valid_from               timestamptz not null,
    valid_to                 timestamptz not null,
    last_observed_slot       timestamptz not null,
    observed_snapshots       bigint not null,
    erp_account_status       integer,
    erp_account_status_text  varchar,
    web_account_status       integer,
    web_account_status_text  varchar,
    prev_erp_account_status  integer,
    prev_web_account_status  integer
);

-- Each client's state after each refresh (owner: slot_start, its newest snapshot then): the open
-- status interval and the newest observed snapshot. The newest row per client is its current
-- state; compaction keeps one row per client and period.
create table if not exists derived_client_tail (
    client_number               bigint not null,
    slot_start                  timestamptz not null,
    status_interval_number      bigint not null,
    status_interval_start       timestamptz not null,
    status_interval_snapshots   bigint not null,
    erp_account_status          integer,
    erp_account_status_text     varchar,
    web_account_status          integer,
    web_account_status_text     varchar,
    prev_erp_account_status     integer,
    prev_web_account_status     integer,
    observed_slot_start         timestamptz,  -- NULL: nothing observed yet
    snapshot_id                 varchar,
    observed_at                 timestamptz,
    base_currency               varchar,
    total_floating_balance      decimal(38, 2),
    line_count                  integer,
    is_restricted               boolean,
    prev_slot_start             timestamptz  -- the observed snapshot's previous observed one
);

-- With each derived_client_tail row (owner: tail_slot), every currency the client ever held:
-- present ones with their line at the newest observed snapshot and their open interval and lock
-- episode; absent ones keep only the interval and episode counts.
create table if not exists derived_line_tail (
    client_number            bigint not null,
    tail_slot                timestamptz not null,
    currency                 varchar not null,
    present                  boolean not null,
    slot_start               timestamptz,
    observed_at              timestamptz,
    base_currency            varchar,
    balance                  decimal(38, 8),
    cash                     decimal(38, 8),
    locked                   decimal(38, 8),
    value_base               decimal(38, 2),
    implied_rate             double,
    interval_number          bigint not null,
    interval_start           timestamptz,
    interval_observed        bigint,
    episode_number           bigint not null,
    episode_start            timestamptz,  -- NULL unless locked
    episode_locked_slots     bigint,
    episode_peak             decimal(38, 8),
    plateau_slots            bigint,       -- observations with the current locked amount
    episode_longest_plateau  bigint
);

-- Per slot, currency and base currency (owner: the slot, all clients): house totals, implied
-- rate statistics (over lines with a rate and a non-zero value) and how many lines are outliers.
create table if not exists derived_slot_totals (
    slot_start              timestamptz not null,
    currency                varchar not null,
    base_currency           varchar,
    client_count            bigint not null,
    total_balance           decimal(38, 8) not null,
    total_cash              decimal(38, 8) not null,
    total_locked            decimal(38, 8) not null,
    total_value_base        decimal(38, 2) not null,
    total_negative_balance  decimal(38, 8) not null,
    rate_client_count       bigint not null,
    median_rate             double,
    min_rate                double,
    max_rate                double,
    outliers                bigint not null
);

-- The rows of fx_rate_outliers (owner: the slot).
create table if not exists derived_fx_rate_outliers (
    slot_start          timestamptz not null,
    client_number       bigint not null,
    currency            varchar not null,
    base_currency       varchar,
    balance             decimal(38, 8) not null,
    value_base          decimal(38, 2) not null,
    implied_rate        double,
    median_rate         double,
    deviation           double,
    relative_deviation  double,
    allowed_deviation   double,
    value_deviation     decimal(38, 2),
    client_count        bigint
);

-- daily_balances' rows before their closing slot is joined: the lines of each observed snapshot
-- that ends its client's UTC day, once per day it is the last observation of (its own, and
-- those carried until the next observation's day). Owner: next_slot_start, that observation.
create table if not exists derived_day_end_lines (
    client_number   bigint not null,
    day             date not null,
    slot_start      timestamptz not null,      -- the as-of snapshot
    next_slot_start timestamptz not null,
    currency        varchar not null,
    base_currency   varchar,
    balance         decimal(38, 8) not null,
    cash            decimal(38, 8) not null,
    locked          decimal(38, 8) not null,
    value_base      decimal(38, 2) not null
);

-- (client, slot) with more than one attempt, and how many more (owner: slot_start): the
-- distinct slots a client was attempted in are its attempts minus these, without a distinct
-- count over every attempt.
create table if not exists derived_repeat_attempts (
    client_number   bigint not null,
    slot_start      timestamptz not null,
    extra_attempts  bigint not null
);

-- Periods rewritten clustered by client (pipeline.store.maintenance): the maintenance job
-- compacts each closed period once; a week replaces the days it was kept by before.
create table if not exists maintenance_compactions (
    period_start    timestamptz not null,
    period_end      timestamptz not null,
    compacted_at    timestamptz not null
);
