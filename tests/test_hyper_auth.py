"""Bearer tokens: none, static, refreshable (single flight, rotation, 0600 token-state file)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline.hyper import Credential, HyperClient
from pipeline.hyper.auth import TokenManager
from pipeline.hyper.retry import RetryPolicy
from pipeline.normalize.outcomes import AUTH_ERROR, OK, RESTRICTED, classify
from pipeline.simulator import SimulatorConfig, SimulatorServer, demo_credentials
from pipeline.simulator.gateway import AuthSpec

ACCESS = "TOKENsecretAccess" + "a" * 103  # 120 characters, like the vendor's
REFRESH = "TOKENsecretRefresh" + "r" * 182  # 200 characters
CONFIG = SimulatorConfig(auth=AuthSpec(ACCESS, REFRESH, rotate_refresh=True))
DEMO = [Credential(c.client_number, c.api_password) for c in demo_credentials(CONFIG)]


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(CONFIG) as running:
        yield running


def client_for(url: str, auth: TokenManager) -> HyperClient:
    return HyperClient(url, auth=auth, pool_size=8, retry=RetryPolicy(sleep=lambda _: None))


def poll_all(client: HyperClient) -> list[list]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(client.fetch_with_retries, DEMO))


def test_expired_access_token_is_refreshed_once_for_all_threads_and_persisted(
    server: SimulatorServer, tmp_path: Path
) -> None:
    state_file = tmp_path / "state" / "tokens.json"
    auth = TokenManager(ACCESS, REFRESH, state_file=state_file)
    server.state.auth.expire()
    with client_for(server.url, auth) as client:
        results = poll_all(client)
    assert server.state.auth.refreshes == 1 == auth.refreshes  # single flight
    finals = [classify(attempts[-1]).outcome for attempts in results]
    assert set(finals) <= {OK, RESTRICTED}
    assert max(len(a) for a in results) == 2  # the 401, then one retry with the new token
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    saved = json.loads(state_file.read_text())
    assert saved["access_token"] == server.state.auth.access_token
    assert saved["refresh_token"] == server.state.auth.refresh_token != REFRESH  # rotated
    assert ACCESS not in state_file.read_text() and REFRESH not in state_file.read_text()


def test_next_run_uses_the_persisted_pair_while_the_environment_is_unchanged(
    server: SimulatorServer, tmp_path: Path
) -> None:
    state_file = tmp_path / "tokens.json"
    server.state.auth.expire()
    with client_for(server.url, TokenManager(ACCESS, REFRESH, state_file=state_file)) as client:
        poll_all(client)
    # A new process with the same (now rotated-away) environment tokens: the file wins.
    again = TokenManager(ACCESS, REFRESH, state_file=state_file)
    assert again.current()[0] == server.state.auth.access_token
    with client_for(server.url, again) as client:
        results = poll_all(client)
    assert all(len(a) == 1 for a in results) and server.state.auth.refreshes == 1
    # The operator installs a different pair: the environment wins over the stale file.
    fresh = TokenManager("TOKENsecretOther" + "o" * 104, "TOKENsecretNew", state_file=state_file)
    assert fresh.current()[0].startswith("TOKENsecretOther")


def test_static_token_rejected_is_a_final_auth_error_without_refresh(
    server: SimulatorServer,
) -> None:
    with client_for(server.url, TokenManager("TOKENsecretWrong" + "w" * 104)) as client:
        attempts = client.fetch_with_retries(DEMO[0])
    assert len(attempts) == 1
    verdict = classify(attempts[0])
    assert verdict.outcome == AUTH_ERROR and "bearer token rejected" in verdict.error
    assert server.state.auth.refreshes == 0


def test_no_token_against_a_secured_instance_is_an_auth_error(server: SimulatorServer) -> None:
    with client_for(server.url, TokenManager()) as client:
        attempts = client.fetch_with_retries(DEMO[0])
    assert [classify(a).outcome for a in attempts] == [AUTH_ERROR]


def test_wrong_client_password_does_not_refresh_the_bearer(
    server: SimulatorServer, tmp_path: Path
) -> None:
    auth = TokenManager(ACCESS, REFRESH, state_file=tmp_path / "t.json")
    wrong = Credential(DEMO[0].client_number, "SECRETpwWrong1")
    with client_for(server.url, auth) as client:
        attempts = client.fetch_with_retries(wrong)
    verdict = classify(attempts[-1])
    assert len(attempts) == 1 and server.state.auth.refreshes == 0
    assert verdict.outcome == AUTH_ERROR and "wrong API password" in verdict.error
    assert "SECRETpw" not in verdict.error and str(DEMO[0].client_number) in verdict.error


def test_failed_refresh_is_a_final_auth_error(tmp_path: Path) -> None:
    config = SimulatorConfig(auth=AuthSpec(ACCESS, "TOKENsecretServerSide"))
    with SimulatorServer(config) as running:
        running.state.auth.expire()
        auth = TokenManager(ACCESS, "TOKENsecretStale", state_file=tmp_path / "t.json")
        with client_for(running.url, auth) as client:
            attempts = client.fetch_with_retries(DEMO[0])
    assert [classify(a).outcome for a in attempts] == [AUTH_ERROR]
    assert not (tmp_path / "t.json").exists()


def test_modes() -> None:
    assert TokenManager().mode == "none"
    assert TokenManager("TOKENsecretX").mode == "static"
    assert TokenManager("TOKENsecretX", "TOKENsecretY").mode == "refreshable"
