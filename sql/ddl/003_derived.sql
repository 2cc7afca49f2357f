-- Derived facts: what the views would otherwise recompute with windows over the whole book on
-- every query (the previous observation, change kinds, interval and lock-episode bounds, per-slot
-- totals). pipeline.store.derived.refresh_derived writes them after every write of snapshots and
-- lines; the views in sql/views read them. Idempotent. No keys and no indexes (the same tables
-- live on DuckLake): refresh_derived replaces the rows it owns, nothing else writes here.
--
-- Ownership: every row is owned by one snapshot (its `owner` below). A refresh of a slot range
-- rewrites the rows owned by the snapshots it recomputes, so replaying a range is idempotent.
-- Rows that need "the next observation" (a closed interval, a closed observed snapshot) are
-- written when that next observation arrives; the newest state of each client lives in the
-- *_tail tables, which only ever grow by appends between compactions.

-- One row per snapshot (owner: itself): the previous snapshot of any kind, whether it observed
-- balances, the account-status interval it belongs to, and its lines' sums (reconciliation).
create table if not exists derived_snapshots (
    client_number            bigint not null,
    slot_start               timestamptz not null,
    prev_slot_start          timestamptz,     -- the client's previous snapshot of any kind
    is_observed              boolean not null,  -- not a restricted answer without Data
    lines_stored             bigint not null,
    lines_value              decimal(38, 2) not null,
    status_interval_number   bigint not null,   -- 1, 2, ... per client
    status_interval_start    timestamptz not null,
    status_interval_snapshots bigint not null,  -- snapshots in the interval so far, this one included
    starts_status_interval   boolean not null,
    -- only where starts_status_interval: the statuses it starts with, the ones it ends, and the
    -- size of the interval it closes (NULL on a client's first snapshot)
    erp_account_status       integer,
    erp_account_status_text  varchar,
    web_account_status       integer,
    web_account_status_text  varchar,
    prev_erp_account_status  integer,
    prev_web_account_status  integer,
    closed_status_snapshots  bigint
);

-- Observed snapshots that have a next observed snapshot (owner: that next one).
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

-- Per refresh and client, its newest snapshot in the refreshed range (owner: slot_start) and its
-- newest observed one (NULL when none): the newest row per client is the client's current state.
create table if not exists derived_client_tail (
    client_number             bigint not null,
    slot_start                timestamptz not null,
    status_interval_snapshots bigint not null,
    observed_slot_start       timestamptz,
    snapshot_id               varchar,
    observed_at               timestamptz,
    base_currency             varchar,
    total_floating_balance    decimal(38, 2),
    line_count                integer,
    is_restricted             boolean,
    prev_slot_start           timestamptz       -- the observed snapshot's previous observed one
);

-- One row per currency of every observed snapshot and of the client's previous observed
-- snapshot (owner: slot_start): the pair behind balance_line_pairs (a currency gone from Data is
-- a row with vanished and zeros; the client's first snapshot has prev_slot_start NULL), plus the
-- running state of the balance interval and the lock episode after this observation.
create table if not exists derived_line_pairs (
    client_number              bigint not null,
    currency                   varchar not null,
    slot_start                 timestamptz not null,
    prev_slot_start            timestamptz,
    base_currency              varchar,
    prev_base_currency         varchar,
    balance                    decimal(38, 8) not null,
    prev_balance               decimal(38, 8),
    cash                       decimal(38, 8) not null,
    prev_cash                  decimal(38, 8),
    locked                     decimal(38, 8) not null,
    prev_locked                decimal(38, 8),
    value_base                 decimal(38, 2) not null,
    prev_value_base            decimal(38, 2),
    rate                       double,
    prev_rate                  double,
    appeared                   boolean not null,
    vanished                   boolean not null,
    -- balance interval (a run of observations with the same balance and cash)
    interval_number            bigint not null,  -- carried through vanished rows
    interval_start             timestamptz,      -- NULL on vanished rows
    interval_observed          bigint,
    closes_interval            boolean not null,  -- the previous observation's interval ends here
    closed_interval_start      timestamptz,
    closed_interval_observed   bigint,
    -- lock episode (a run of observations with locked <> 0)
    episode_number             bigint not null,  -- carried through unlocked and vanished rows
    episode_start              timestamptz,      -- NULL unless locked
    episode_locked_slots       bigint,
    episode_peak               decimal(38, 8),
    plateau_slots              bigint,           -- observations with this same locked amount
    episode_longest_plateau    bigint,
    closes_episode             boolean not null,
    closed_episode_start       timestamptz,
    closed_episode_locked_slots bigint,
    closed_episode_peak        decimal(38, 8),
    closed_episode_longest_plateau bigint
);

-- The lines (with their running state) of the newest observed snapshot of each client in each
-- refreshed range (owner: slot_start); those of the client's newest row are its current lines.
create table if not exists derived_line_tail (
    client_number              bigint not null,
    currency                   varchar not null,
    slot_start                 timestamptz not null,
    observed_at                timestamptz not null,
    base_currency              varchar,
    balance                    decimal(38, 8) not null,
    cash                       decimal(38, 8) not null,
    locked                     decimal(38, 8) not null,
    value_base                 decimal(38, 2) not null,
    implied_rate               double,
    interval_number            bigint not null,
    interval_start             timestamptz not null,
    interval_observed          bigint not null,
    episode_number             bigint not null,
    episode_start              timestamptz,
    episode_locked_slots       bigint,
    episode_peak               decimal(38, 8),
    episode_longest_plateau    bigint
);

-- Lines of each client's last observed snapshot of a UTC day, once a later day has been
-- observed (owner: next_slot_start, that later observation): daily_balances' as-of lines.
create table if not exists derived_day_end_lines (
    client_number   bigint not null,
    slot_start      timestamptz not null,
    next_slot_start timestamptz not null,
    currency        varchar not null,
    base_currency   varchar,
    balance         decimal(38, 8) not null,
    cash            decimal(38, 8) not null,
    locked          decimal(38, 8) not null,
    value_base      decimal(38, 2) not null
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
