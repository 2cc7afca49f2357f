-- The data contract. Idempotent: safe to apply on every connection that writes.
-- All timestamps are instants (TIMESTAMPTZ); the pipeline's sessions use TimeZone 'UTC'.

create table if not exists raw_responses (
    raw_id          varchar primary key,     -- sha256 of client, slot, observed_at and body
    client_number   bigint not null,
    slot_start      timestamptz not null,
    observed_at     timestamptz not null,
    http_status     integer,
    body            varchar not null,        -- the body exactly as received (capped; see below)
    body_encoding   varchar not null default 'utf-8',  -- 'base64' when the bytes were not UTF-8
    body_size       bigint,                  -- bytes received, before any cap
    body_truncated  boolean not null default false     -- true when body_size exceeded the cap
);

create table if not exists fetch_attempts (
    run_id          varchar not null,
    slot_start      timestamptz not null,
    client_number   bigint not null,
    attempt         integer not null,
    requested_at    timestamptz not null,
    duration_ms     double,
    http_status     integer,
    response_code   integer,
    outcome         varchar not null,
    error           varchar,                 -- human-readable, never a secret
    raw_id          varchar,                 -- NULL when no body arrived
    primary key (run_id, slot_start, client_number, attempt)
);

create table if not exists balance_snapshots (
    client_number           bigint not null,
    slot_start              timestamptz not null,
    snapshot_id             varchar not null,
    observed_at             timestamptz not null,
    response_code           integer not null,
    response_message        varchar,
    erp_account_status      integer,
    erp_account_status_text varchar,
    web_account_status      integer,
    web_account_status_text varchar,
    agency                  integer,
    base_currency           varchar,
    total_floating_balance  decimal(38, 2),
    line_count              integer not null,
    is_restricted           boolean not null,
    raw_id                  varchar not null,
    primary key (client_number, slot_start)
);

-- No primary key here: lines are only ever written together with their snapshot (whose key
-- guards them), and an ART index over tens of millions of lines costs memory for nothing.
create table if not exists balance_lines (
    client_number   bigint not null,
    slot_start      timestamptz not null,
    currency        varchar not null,
    snapshot_id     varchar not null,
    observed_at     timestamptz not null,
    base_currency   varchar,
    balance         decimal(38, 8) not null,
    value_base      decimal(38, 2) not null,
    cash            decimal(38, 8) not null,
    locked          decimal(38, 8) not null,
    implied_rate    double
);

create table if not exists clients (
    client_number   bigint primary key,
    label           varchar,
    first_seen      timestamptz not null,
    last_seen       timestamptz not null
);
