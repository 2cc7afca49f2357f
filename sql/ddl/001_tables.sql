-- The data contract. Idempotent: safe to apply on every connection that writes.
-- All timestamps are instants (TIMESTAMPTZ); the pipeline's sessions use TimeZone 'UTC'.
-- No PRIMARY KEY on the history tables: each `-- key:` below is kept unique by the statement
-- that writes the table (an anti-join, under the run lock of a file or the ingest lock of a
-- lake); the book's checks verify the keys of snapshots and lines. An ART index would be loaded and rewritten whole by
-- every write session's checkpoint: measured 0.4-0.6 CPU-s per session at 360,000 rows,
-- growing with history (a year of a 10,000-client book holds 88M), for a one-row append.

-- raw_responses: every body received, byte-exact, landed before it is parsed. Never the
-- request: it holds the client's password.
-- key: raw_id
create table if not exists raw_responses (
    raw_id          varchar not null,        -- sha256 of client, slot, observed_at and body
    client_number   bigint not null,         -- the client the body answers for
    slot_start      timestamptz not null,    -- the poll slot (UTC start of its schedule window)
    observed_at     timestamptz not null,    -- when the answer arrived
    http_status     integer,                 -- the HTTP status of the answer
    body            varchar not null,        -- the body exactly as received (capped; see below)
    body_encoding   varchar not null default 'utf-8',  -- 'base64' when the bytes were not UTF-8
    body_size       bigint,                  -- bytes received, before any cap
    body_truncated  boolean not null default false     -- true when body_size exceeded the cap
);

-- fetch_attempts: every HTTP attempt, success or not; a client's final outcome in a run and
-- slot is its last attempt.
-- key: run_id, slot_start, client_number, attempt
create table if not exists fetch_attempts (
    run_id          varchar not null,        -- the run (Dagster run id, or the CLI's) that made it
    slot_start      timestamptz not null,    -- the poll slot
    client_number   bigint not null,         -- the client's number at the broker
    attempt         integer not null,        -- 1, 2, ... within the run, slot and client
    requested_at    timestamptz not null,    -- when the request was sent
    duration_ms     double,                  -- until the answer, or the failure
    http_status     integer,                 -- NULL when no HTTP answer came
    response_code   integer,                 -- the envelope's ResponseCode, when there was one
    outcome         varchar not null,        -- ok or restricted (a snapshot was kept), else a failure word
    error           varchar,                 -- human-readable, never a secret
    raw_id          varchar                  -- NULL when no body arrived
);

-- balance_snapshots: one successful poll of a client in a slot (ResponseCode 0, or 1 for a
-- restrictive account status), the balance envelope without its lines.
-- key: client_number, slot_start
create table if not exists balance_snapshots (
    client_number           bigint not null,       -- the client's number at the broker
    slot_start              timestamptz not null,  -- the poll slot
    snapshot_id             varchar not null,      -- identifies the snapshot; its lines carry it
    observed_at             timestamptz not null,  -- when the answer arrived
    response_code           integer not null,      -- the envelope's ResponseCode (0 or 1)
    response_message        varchar,               -- the envelope's message text
    erp_account_status      integer,               -- the account's status in the ERP
    erp_account_status_text varchar,               -- its text, as the instance words it
    web_account_status      integer,               -- the account's status on the web front end
    web_account_status_text varchar,               -- its text
    agency                  integer,               -- the broker's agency number
    base_currency           varchar,               -- the accounting currency values are in; NULL without Data
    total_floating_balance  decimal(38, 2),        -- the reported total value (TotalFloatingBalance)
    line_count              integer not null,      -- lines in the answer's Data
    is_restricted           boolean not null,      -- ResponseCode 1: a restrictive account status
    raw_id                  varchar not null       -- the raw body it was parsed from
);

-- balance_lines: one currency of a snapshot, one row per (client_number, slot_start, currency).
-- Lines are only ever written together with their snapshot (whose key guards them).
-- key: client_number, slot_start, currency
create table if not exists balance_lines (
    client_number   bigint not null,         -- the client's number at the broker
    slot_start      timestamptz not null,    -- the poll slot
    currency        varchar not null,        -- the currency held (its code in Data)
    snapshot_id     varchar not null,        -- the snapshot the line belongs to
    observed_at     timestamptz not null,    -- when the answer arrived
    base_currency   varchar,                 -- the currency value_base is in
    balance         decimal(38, 8) not null, -- quantity held (Balance), exact
    value_base      decimal(38, 2) not null, -- its value in the base currency (Value_<BASE>)
    cash            decimal(38, 8) not null, -- the part free to use (Cash)
    locked          decimal(38, 8) not null, -- balance - cash: reserved by orders or withdrawals
    implied_rate    double                   -- value_base / balance; NULL when balance is 0
);

-- clients: see 003_client_sightings.sql (append-only sightings, and a view named clients).
