"""Configuration: the one module that reads the environment (and a local `.env`).

Everything else receives a `Settings` (or values taken from one). Each setting is parsed and
validated here, once; a bad value raises `ConfigurationError` with one line naming the variable,
which the CLI turns into exit status 2.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

HYPER_BASE_URL = "HYPER_BASE_URL"
HYPER_CLIENTS_FILE = "HYPER_CLIENTS_FILE"
HYPER_ACCESS_TOKEN = "HYPER_ACCESS_TOKEN"
HYPER_REFRESH_TOKEN = "HYPER_REFRESH_TOKEN"
HYPER_RATE_LIMIT_PER_MINUTE = "HYPER_RATE_LIMIT_PER_MINUTE"
HYPER_TIMEOUT_SECONDS = "HYPER_TIMEOUT_SECONDS"
HYPER_MAX_WORKERS = "HYPER_MAX_WORKERS"
HYPER_MAX_ATTEMPTS = "HYPER_MAX_ATTEMPTS"
HYPER_BACKOFF_BASE_SECONDS = "HYPER_BACKOFF_BASE_SECONDS"
HYPER_BACKOFF_MAX_SECONDS = "HYPER_BACKOFF_MAX_SECONDS"
HYPER_TOKEN_STATE_FILE = "HYPER_TOKEN_STATE_FILE"
PIPELINE_LOCK_TIMEOUT_SECONDS = "PIPELINE_LOCK_TIMEOUT_SECONDS"
PIPELINE_READ_WAIT_SECONDS = "PIPELINE_READ_WAIT_SECONDS"
PIPELINE_MAX_FAILED_SHARE = "PIPELINE_MAX_FAILED_SHARE"
PIPELINE_DB = "PIPELINE_DB"
PIPELINE_LAKE_DATA_PATH = "PIPELINE_LAKE_DATA_PATH"
# An S3-compatible endpoint other than AWS (MinIO, R2, …) for an s3:// lake data path.
PIPELINE_S3_ENDPOINT = "PIPELINE_S3_ENDPOINT"
PIPELINE_POLL_CRON = "PIPELINE_POLL_CRON"
PIPELINE_START = "PIPELINE_START"
PIPELINE_SIMULATOR_SEED = "PIPELINE_SIMULATOR_SEED"
PIPELINE_SIMULATOR_BASE_CURRENCY = "PIPELINE_SIMULATOR_BASE_CURRENCY"
PIPELINE_CLIENT = "PIPELINE_CLIENT"
DAGSTER_HOME = "DAGSTER_HOME"
# A shard's egress: the local address its requests leave from, or the proxy they go through.
HYPER_SOURCE_ADDRESS = "HYPER_SOURCE_ADDRESS"
HYPER_PROXY_URL = "HYPER_PROXY_URL"
# The shards the Dagster schedule polls each tick, one run each: `SPEC[@EGRESS], …`.
PIPELINE_SHARDS = "PIPELINE_SHARDS"

DEFAULT_DB = "data/balances.duckdb"
# A DuckLake whose catalog is in PostgreSQL: `ducklake:postgres:<libpq key=value conninfo>`.
# Only PostgreSQL: a DuckDB-file catalog admits one process and a SQLite one failed commits with
# two writers (measured), which is what the lake is for.
LAKE_URL_PREFIX = "ducklake:postgres:"
DEFAULT_POLL_CRON = "0 * * * *"
DEFAULT_RATE_LIMIT_PER_MINUTE = 20.0
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_WORKERS = 8
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BACKOFF_BASE_SECONDS = 1.0
DEFAULT_BACKOFF_MAX_SECONDS = 60.0
# How long a second `pipeline run` waits for the first one to release the database.
DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0
# How long a reader waits for the writer's short transaction before giving up.
DEFAULT_READ_WAIT_SECONDS = 30.0
TOKEN_STATE_FILE_NAME = "hyper_token_state.json"
# When the embedded simulator answers, the vendor's per-IP budget does not apply: the
# simulator is ours and on loopback, so the default pace would only slow demos down.
SIMULATOR_RATE_LIMIT_PER_MINUTE = 0.0
# The accounting currencies the simulator can play (it names the `Value_<BASE>` fields).
SIMULATOR_BASE_CURRENCIES = ("ILS", "USD", "EUR")


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline is configured with, validated on construction.

    Build it with `Settings.from_env()` in an entry point (CLI, code location, notebook) and
    pass it (or values from it) down; tests construct it directly.
    """

    base_url: str | None = None
    clients_file: Path | None = None
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    rate_limit_per_minute: float | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_workers: int = DEFAULT_MAX_WORKERS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base_seconds: float = DEFAULT_BACKOFF_BASE_SECONDS
    backoff_max_seconds: float = DEFAULT_BACKOFF_MAX_SECONDS
    token_state_file: Path | None = None
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    read_wait_seconds: float = DEFAULT_READ_WAIT_SECONDS
    # A round fails when more than this share of its clients failed; None: only when all did.
    max_failed_share: float | None = None
    db_path: Path = Path(DEFAULT_DB)
    # With a DuckLake PIPELINE_DB: the folder or `s3://…` prefix of its Parquet files. Needed to
    # create a lake; an existing lake's catalog remembers it.
    lake_data_path: str | None = None
    # With an s3:// data path on another S3-compatible store: its endpoint URL (credentials come
    # from the AWS credential chain: environment, ~/.aws, instance role; never from here).
    s3_endpoint: str | None = None
    poll_cron: str = DEFAULT_POLL_CRON
    simulator_seed: int = 42
    simulator_base_currency: str = "ILS"
    # Where Dagster keeps runs and events; None: `.dagster/` beside the database.
    dagster_home: Path | None = None
    # The first poll slot Dagster shows as a partition; None: the database's first slot, or
    # the start of the current UTC day for a database without any (pipeline.defs.partitions).
    pipeline_start: datetime | None = None
    # A shard's egress (the vendor budgets requests per calling IP): the local IP address to
    # send from, or an http(s) proxy URL; at most one, None: the host's default route.
    source_address: str | None = None
    proxy_url: str | None = None
    # The shards the Dagster schedule emits one run for per tick (PIPELINE_SHARDS); empty: one
    # run polls every client.
    shards: tuple[ShardPlan, ...] = ()

    def __post_init__(self) -> None:
        if self.base_url is not None:
            object.__setattr__(self, "base_url", _check_url(self.base_url))
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigurationError(f"{f.name} must be a finite number (got {value})")
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ConfigurationError(f"{f.name} must not be negative (got {value})")
        if self.timeout_seconds <= 0:
            raise ConfigurationError(
                f"{HYPER_TIMEOUT_SECONDS} must be a positive number of seconds "
                f"(got {self.timeout_seconds})"
            )
        if self.max_failed_share is not None and not 0 <= self.max_failed_share <= 1:
            raise ConfigurationError(
                f"{PIPELINE_MAX_FAILED_SHARE} must be a share between 0 and 1 "
                f"(got {self.max_failed_share})"
            )
        if self.simulator_base_currency not in SIMULATOR_BASE_CURRENCIES:
            raise ConfigurationError(
                f"{PIPELINE_SIMULATOR_BASE_CURRENCY}={self.simulator_base_currency!r} is not one "
                f"of {', '.join(SIMULATOR_BASE_CURRENCIES)}"
            )
        _check_cron(self.poll_cron)
        _check_egress(self.source_address, self.proxy_url)
        if self.s3_endpoint is not None:
            _check_endpoint(self.s3_endpoint)
        if lake_conninfo(str(self.db_path)) is None and self.lake_data_path is not None:
            raise ConfigurationError(
                f"{PIPELINE_LAKE_DATA_PATH} is set but {PIPELINE_DB} is not a DuckLake URL "
                f"({LAKE_URL_PREFIX}<conninfo>); unset it or point {PIPELINE_DB} at the lake"
            )
        if self.pipeline_start is not None:
            object.__setattr__(self, "pipeline_start", _check_start(self.pipeline_start))

    @property
    def uses_simulator(self) -> bool:
        return self.base_url is None

    @property
    def effective_token_state_file(self) -> Path:
        """Where a refreshed token pair is kept: beside the database, never inside it."""
        return self.token_state_file or self.local_folder / TOKEN_STATE_FILE_NAME

    @property
    def local_folder(self) -> Path:
        """Where local state goes beside the store (token pair, Dagster instance, report): the
        database file's folder. A lake's URL is a connection string, not a path: beside its
        local data folder then, or the working directory when its data is on object storage."""
        if not str(self.db_path).startswith(LAKE_URL_PREFIX):
            return self.db_path.parent
        data = self.lake_data_path
        if data is None or "://" in data:
            return Path()
        return Path(data).parent

    @property
    def effective_rate_limit(self) -> float:
        """Requests per minute the client allows itself; 0 means unlimited."""
        if self.rate_limit_per_minute is not None:
            return self.rate_limit_per_minute
        if self.uses_simulator:
            return SIMULATOR_RATE_LIMIT_PER_MINUTE
        return DEFAULT_RATE_LIMIT_PER_MINUTE

    @property
    def display_url(self) -> str:
        """The instance for messages: the URL without any user information."""
        return self.base_url or "the embedded simulator"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every setting; `env` defaults to the process environment.

        Raises:
            ConfigurationError: one line naming the variable and what is wrong with it.
        """
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, kind: type[float] | type[int], default: float | None) -> float:
            raw = text(name)
            if raw is None:
                if default is None:
                    raise ConfigurationError(f"{name} is required")
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigurationError(
                    f"{name}={raw!r} is not a valid {kind.__name__}; unset it or fix the value"
                ) from None
            if not math.isfinite(value):
                raise ConfigurationError(f"{name}={raw!r} must be a finite number")
            if value < 0:
                raise ConfigurationError(f"{name} must not be negative (got {raw})")
            return value

        rate = text(HYPER_RATE_LIMIT_PER_MINUTE)
        share = text(PIPELINE_MAX_FAILED_SHARE)
        clients_file = text(HYPER_CLIENTS_FILE)
        token_file = text(HYPER_TOKEN_STATE_FILE)
        dagster_home = text(DAGSTER_HOME)
        db = text(PIPELINE_DB) or DEFAULT_DB
        if lake_conninfo(db) is not None and str(Path(db)) != db:
            # db_path is a Path, which folds '//' and trailing slashes: refuse what it would alter.
            raise ConfigurationError(
                f"{PIPELINE_DB}: write the lake's connection string as libpq key=value pairs "
                "without '//' or a trailing '/', e.g. ducklake:postgres:host=db.internal "
                "dbname=lake user=pipeline"
            )
        start = text(PIPELINE_START)
        return cls(
            base_url=text(HYPER_BASE_URL),
            clients_file=Path(clients_file) if clients_file else None,
            access_token=text(HYPER_ACCESS_TOKEN),
            refresh_token=text(HYPER_REFRESH_TOKEN),
            rate_limit_per_minute=None
            if rate is None
            else number(HYPER_RATE_LIMIT_PER_MINUTE, float, None),
            timeout_seconds=number(HYPER_TIMEOUT_SECONDS, float, DEFAULT_TIMEOUT_SECONDS),
            max_workers=max(1, int(number(HYPER_MAX_WORKERS, int, DEFAULT_MAX_WORKERS))),
            max_attempts=max(1, int(number(HYPER_MAX_ATTEMPTS, int, DEFAULT_MAX_ATTEMPTS))),
            backoff_base_seconds=number(
                HYPER_BACKOFF_BASE_SECONDS, float, DEFAULT_BACKOFF_BASE_SECONDS
            ),
            backoff_max_seconds=number(
                HYPER_BACKOFF_MAX_SECONDS, float, DEFAULT_BACKOFF_MAX_SECONDS
            ),
            token_state_file=Path(token_file) if token_file else None,
            lock_timeout_seconds=number(
                PIPELINE_LOCK_TIMEOUT_SECONDS, float, DEFAULT_LOCK_TIMEOUT_SECONDS
            ),
            read_wait_seconds=number(PIPELINE_READ_WAIT_SECONDS, float, DEFAULT_READ_WAIT_SECONDS),
            max_failed_share=None
            if share is None
            else number(PIPELINE_MAX_FAILED_SHARE, float, None),
            db_path=Path(db),
            lake_data_path=text(PIPELINE_LAKE_DATA_PATH),
            s3_endpoint=text(PIPELINE_S3_ENDPOINT),
            poll_cron=text(PIPELINE_POLL_CRON) or DEFAULT_POLL_CRON,
            simulator_seed=int(number(PIPELINE_SIMULATOR_SEED, int, 42)),
            simulator_base_currency=(text(PIPELINE_SIMULATOR_BASE_CURRENCY) or "ILS").upper(),
            dagster_home=Path(dagster_home) if dagster_home else None,
            pipeline_start=None if start is None else _parse_start(start),
            source_address=text(HYPER_SOURCE_ADDRESS),
            proxy_url=text(HYPER_PROXY_URL),
            shards=parse_shard_plans(text(PIPELINE_SHARDS) or ""),
        )


def load_dotenv_file(path: Path | None = None) -> None:
    """Read a local `.env` into the environment like `dg dev` does; set variables win."""
    from dotenv import load_dotenv

    load_dotenv(path or Path.cwd() / ".env", override=False)


def tokens_from_env(env: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The bearer pair, read when a round runs so it never becomes Dagster config."""
    env = os.environ if env is None else env
    access = env.get(HYPER_ACCESS_TOKEN, "").strip() or None
    refresh = env.get(HYPER_REFRESH_TOKEN, "").strip() or None
    return access, refresh


def client_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """`PIPELINE_CLIENT`: the client a notebook shows (text; the notebook validates it)."""
    env = os.environ if env is None else env
    return env.get(PIPELINE_CLIENT, "").strip() or None


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """The environment for a child process (a notebook kernel): ours plus `overrides`."""
    return {**os.environ, **overrides}


def lake_conninfo(target: str) -> str | None:
    """The libpq connection string of a DuckLake `PIPELINE_DB`; None for a DuckDB file path.

    Raises:
        ConfigurationError: a `ducklake:` URL that is not `ducklake:postgres:<key=value …>`, or
            one that carries a password (it would reach Dagster config, logs and error messages;
            libpq reads PGPASSWORD or ~/.pgpass instead).
    """
    if not target.startswith("ducklake:"):
        return None
    if not target.startswith(LAKE_URL_PREFIX):
        raise ConfigurationError(
            f"{PIPELINE_DB} names a DuckLake whose catalog is not PostgreSQL; only "
            f"{LAKE_URL_PREFIX}<conninfo> admits many writers"
        )
    conninfo = target.removeprefix(LAKE_URL_PREFIX).strip()
    if "://" in conninfo:
        raise ConfigurationError(
            f"{PIPELINE_DB}: write the lake's connection string as libpq key=value pairs "
            "(host=… dbname=… user=…), not as a postgresql:// URI"
        )
    keys = {key.lower() for key in re.findall(r"(\w+)\s*=", conninfo)}
    if "dbname" not in keys:
        raise ConfigurationError(
            f"{PIPELINE_DB}: the lake's connection string must name its catalog database (dbname=…)"
        )
    if "password" in keys:
        raise ConfigurationError(
            f"{PIPELINE_DB} must not carry a password; give it to libpq through PGPASSWORD or "
            "a ~/.pgpass file"
        )
    return conninfo


def _check_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{HYPER_BASE_URL}={_without_userinfo(url)!r} must start with http:// or https:// "
            "and name a host"
        )
    if parts.username is not None or parts.password is not None:
        # A password in the URL would reach every log line that names the instance.
        raise ConfigurationError(
            f"{HYPER_BASE_URL} must not carry credentials (user:password@); the API "
            "authenticates with the clients file and HYPER_ACCESS_TOKEN"
        )
    return url


_PART = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def split_part(spec: str, what: str = "shard") -> tuple[int, int] | None:
    """(K, N) of a hash shard `K/N`; None for a shard named in the clients file.

    Raises:
        ConfigurationError: K/N with K outside 1…N.
    """
    match = _PART.match(spec)
    if match is None:
        return None
    part, parts = int(match.group(1)), int(match.group(2))
    if not 1 <= part <= parts:
        raise ConfigurationError(f"{what} {spec}: K/N needs 1 <= K <= N (e.g. 1/4 … 4/4)")
    return part, parts


@dataclass(frozen=True)
class ShardPlan:
    """One shard the schedule polls each tick: `K/N` or a clients-file shard name, and the
    egress its HTTP session is bound to (a local IP address or an http(s) proxy; neither: the
    host's default route)."""

    spec: str
    source_address: str | None = None
    proxy_url: str | None = None

    def __post_init__(self) -> None:
        if not self.spec or any(c.isspace() for c in self.spec):
            raise ConfigurationError(f"{PIPELINE_SHARDS}: {self.spec!r} is not a shard name or K/N")
        split_part(self.spec, f"{PIPELINE_SHARDS}: shard")
        try:
            _check_egress(self.source_address, self.proxy_url)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{PIPELINE_SHARDS}, shard {self.spec}: {exc}") from None

    @property
    def egress(self) -> str:
        """The run tag's value: runs with the same egress share its request budget."""
        return self.source_address or self.proxy_url or "default"


def parse_shard_plans(text: str) -> tuple[ShardPlan, ...]:
    """`1/4@203.0.113.10, 2/4@http://proxy-b:3128, …` or `eu@10.0.0.5, us` (names of the
    clients file's shard column); the egress after `@` is optional.

    Raises:
        ConfigurationError: a bad entry or egress; hash parts that do not cover 1/N … N/N
            exactly once (clients would be missed or polled twice); names given twice; names
            mixed with hash parts.
    """
    plans = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        spec, _, egress = entry.partition("@")
        egress = egress.strip()
        is_address = bool(egress) and "://" not in egress
        plans.append(
            ShardPlan(
                spec.strip(),
                source_address=egress if is_address else None,
                proxy_url=egress if egress and not is_address else None,
            )
        )
    parts = [split_part(p.spec) for p in plans]
    specs = [p.spec for p in plans]
    if len(set(specs)) != len(specs):
        raise ConfigurationError(f"{PIPELINE_SHARDS}: a shard is listed twice ({text.strip()})")
    hashed = [part for part in parts if part is not None]
    if hashed and len(hashed) != len(plans):
        raise ConfigurationError(
            f"{PIPELINE_SHARDS}: use either K/N parts or shard names, not both (a client "
            "could be in one of each)"
        )
    if hashed:
        n = hashed[0][1]
        if sorted(hashed) != [(k, n) for k in range(1, n + 1)]:
            raise ConfigurationError(
                f"{PIPELINE_SHARDS}: K/N parts must be 1/{n} … {n}/{n}, each once, so every "
                "client is polled exactly once"
            )
    return tuple(plans)


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigurationError(
            f"{PIPELINE_S3_ENDPOINT}={_without_userinfo(endpoint)!r} must be http(s)://host[:port]"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"{PIPELINE_S3_ENDPOINT} must not carry credentials (they come from the AWS "
            "credential chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role)"
        )


def _check_egress(source_address: str | None, proxy_url: str | None) -> None:
    """One egress at most: a literal IP address of this host, or an http(s) proxy URL."""
    if source_address is not None and proxy_url is not None:
        raise ConfigurationError(
            f"set {HYPER_SOURCE_ADDRESS} or {HYPER_PROXY_URL}, not both: a shard has one egress"
        )
    if source_address is not None:
        try:
            ipaddress.ip_address(source_address)
        except ValueError:
            raise ConfigurationError(
                f"{HYPER_SOURCE_ADDRESS}={source_address!r} is not an IP address (one of this "
                "host's addresses, e.g. 203.0.113.7)"
            ) from None
    if proxy_url is not None:
        parts = urlsplit(proxy_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"{HYPER_PROXY_URL}={_without_userinfo(proxy_url)!r} must start with http:// or "
                "https:// and name a host"
            )
        if parts.username is not None or parts.password is not None:
            # It would reach every log line that names the egress; allow-list the host instead.
            raise ConfigurationError(f"{HYPER_PROXY_URL} must not carry credentials (user:pw@)")


def _without_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def _parse_start(text: str) -> datetime:
    """`PIPELINE_START`: an ISO-8601 date or instant, UTC when it carries no offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"{PIPELINE_START}={text!r} is not an ISO-8601 date or instant "
            "(e.g. 2026-11-01 or 2026-11-01T00:00Z)"
        ) from None
    return value


def _check_start(value: datetime) -> datetime:
    """A start in UTC that has already begun (a future start would leave no slot to poll)."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if value > datetime.now(UTC):
        raise ConfigurationError(
            f"{PIPELINE_START}={value.isoformat()} is in the future; the first partition must "
            "have started (unset it to start at the database's first slot)"
        )
    return value


# (low, high) of each of the five cron fields: minute, hour, day of month, month, day of week.
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_ITEM = re.compile(r"^(\*|(\d+)(?:-(\d+))?|[A-Za-z]{3}(?:-[A-Za-z]{3})?)(?:/(\d+))?$")


def _check_cron(cron: str) -> None:
    """A five-field cron expression with numbers in range (Dagster's partitions need one)."""
    parts = cron.split()
    ok = len(parts) == len(_CRON_RANGES)
    for part, (low, high) in zip(parts, _CRON_RANGES, strict=False):
        for item in part.split(","):
            match = _CRON_ITEM.match(item)
            numbers = [int(g) for g in (match.group(2, 3) if match else ()) if g is not None]
            step = match.group(4) if match else None
            if not match or any(not low <= n <= high for n in numbers) or step == "0":
                ok = False
    if not ok:
        raise ConfigurationError(
            f"{PIPELINE_POLL_CRON}={cron!r} is not a valid five-field cron expression "
            "(e.g. '0 * * * *' for hourly)"
        )
