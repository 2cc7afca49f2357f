"""Where balances come from: a live Hyper instance or the embedded simulator, same interface."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

import requests
from urllib3.poolmanager import ProxyManager

from pipeline.hyper import Credential, HyperClient, load_credentials
from pipeline.hyper.auth import TokenManager
from pipeline.hyper.ratelimit import pacer_for
from pipeline.hyper.redact import install_log_redaction, register_secrets
from pipeline.hyper.retry import RetryPolicy
from pipeline.settings import ConfigurationError, Settings, ShardPlan
from pipeline.simulator import SimulatorConfig, SimulatorServer, demo_credentials


@dataclass(frozen=True)
class Source:
    """An open client plus the clients to poll with it."""

    client: HyperClient
    credentials: list[Credential]
    is_simulator: bool

    @property
    def can_answer_past(self) -> bool:
        """Only the simulator can answer "as of" a past instant; a real API answers now."""
        return self.is_simulator


class SourceProvider(Protocol):
    """What a round needs from its front end: a way to open the source, and its concurrency."""

    @property
    def is_simulator(self) -> bool: ...

    @property
    def max_workers(self) -> int: ...

    def open(self, shard: ShardPlan | None = None) -> AbstractContextManager[Source]:
        """The source; with `shard`, only its clients, over its egress."""
        ...


def simulator_config(settings: Settings) -> SimulatorConfig:
    return SimulatorConfig(
        seed=settings.simulator_seed, base_currency=settings.simulator_base_currency
    )


def load_clients(settings: Settings) -> list[Credential]:
    """The clients file when set; otherwise the simulator's demo book (simulator only).

    Every password is registered with the log redaction filter as it is loaded.
    """
    install_log_redaction()
    if settings.clients_file is not None:
        credentials = load_credentials(settings.clients_file)
    elif not settings.uses_simulator:
        raise ConfigurationError(
            "HYPER_CLIENTS_FILE is required when HYPER_BASE_URL points at a real instance"
        )
    else:
        credentials = [
            Credential(c.client_number, c.api_password, c.label)
            for c in demo_credentials(simulator_config(settings))
        ]
    register_secrets(c.api_password for c in credentials)
    return credentials


class SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connections (direct or to a proxy) that leave from one local address: a shard's egress."""

    def __init__(self, source_address: str, *, pool_maxsize: int) -> None:
        self.source_address = source_address
        super().__init__(pool_connections=1, pool_maxsize=pool_maxsize)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: object
    ) -> None:
        # Port 0: the kernel picks the local port; only the address is pinned.
        pool_kwargs["source_address"] = (self.source_address, 0)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: object) -> ProxyManager:
        proxy_kwargs["source_address"] = (self.source_address, 0)
        manager: ProxyManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        return manager


def bind_egress(session: requests.Session, settings: Settings, pool_size: int) -> None:
    """Send `session`'s requests from the shard's source address, or through its proxy."""
    if settings.source_address is not None:
        adapter = SourceAddressAdapter(settings.source_address, pool_maxsize=pool_size)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    if settings.proxy_url is not None:
        session.proxies = {"http": settings.proxy_url, "https": settings.proxy_url}
        # The shard's proxy, not one from the environment (HTTP_PROXY, NO_PROXY).
        session.trust_env = False


def make_client(settings: Settings, base_url: str) -> HyperClient:
    """A client with the settings' bearer tokens, shared request pacer, retry policy and egress."""
    install_log_redaction()
    register_secrets([settings.access_token, settings.refresh_token])
    client = HyperClient(
        base_url,
        timeout_seconds=settings.timeout_seconds,
        pool_size=max(1, settings.max_workers),
        auth=TokenManager(
            settings.access_token,
            settings.refresh_token,
            state_file=settings.effective_token_state_file,
        ),
        pacer=pacer_for(settings.effective_rate_limit),
        retry=RetryPolicy(
            max_attempts=settings.max_attempts,
            backoff_base_seconds=settings.backoff_base_seconds,
            backoff_max_seconds=settings.backoff_max_seconds,
        ),
    )
    # HyperClient owns its session; the egress is bound here, where the settings are known.
    bind_egress(client._session, settings, pool_size=max(1, settings.max_workers))
    return client


@contextmanager
def open_source(settings: Settings, *, check_reachable: bool = True) -> Iterator[Source]:
    """Start the embedded simulator when no HYPER_BASE_URL is set, and open a client on it.

    Raises:
        ConfigurationError: the clients file is missing or malformed, or the URL is unreachable.
    """
    credentials = load_clients(settings)
    if settings.uses_simulator:
        with (
            SimulatorServer(simulator_config(settings)) as server,
            make_client(settings, server.url) as client,
        ):
            yield Source(client, credentials, is_simulator=True)
        return
    assert settings.base_url is not None
    with make_client(settings, settings.base_url) as client:
        if check_reachable and not client.is_reachable():
            raise ConfigurationError(
                f"cannot reach HYPER_BASE_URL={settings.base_url} (alive_check got no HTTP "
                "answer); check the URL and the network"
            )
        yield Source(client, credentials, is_simulator=False)
