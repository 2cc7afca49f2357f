"""`pipeline check-instance` against the simulator as a live instance: each verdict, no write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.simulator import SimulatorConfig, SimulatorServer, demo_credentials
from pipeline.simulator.gateway import AuthSpec

ACCESS = "TOKENcheckAccess" + "a" * 104
REFRESH = "TOKENcheckRefresh" + "r" * 183
DEMO = demo_credentials(SimulatorConfig())


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in (
        "HYPER_BASE_URL",
        "HYPER_CLIENTS_FILE",
        "HYPER_ACCESS_TOKEN",
        "HYPER_REFRESH_TOKEN",
        "DAGSTER_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "data" / "balances.duckdb"
    monkeypatch.setenv("PIPELINE_DB", str(db))
    monkeypatch.setenv("HYPER_TOKEN_STATE_FILE", str(tmp_path / "private" / "tokens.json"))
    monkeypatch.setenv("HYPER_BACKOFF_BASE_SECONDS", "0.01")
    # The vendor's pace would space the check's requests 3 s apart; the test needs no pace.
    monkeypatch.setenv("HYPER_RATE_LIMIT_PER_MINUTE", "0")
    return db


def clients(path: Path, password: str | None = None) -> Path:
    first = DEMO[0]
    path.write_text(f"{first.client_number},{password or first.api_password}\n")
    return path


@pytest.fixture
def live(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig()) as server:
        monkeypatch.setenv("HYPER_BASE_URL", server.url)
        monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients(tmp_path / "c.csv")))
        yield server


def lines(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    out = capsys.readouterr().out
    return {line.split()[0]: line for line in out.splitlines()}


def test_a_healthy_instance_passes_every_check_and_nothing_is_stored(
    live: SimulatorServer, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-instance"]) == 0
    report = lines(capsys)
    assert report["instance"].split()[1] == live.url
    assert "ok" in report["reachable"] and "alive_check answered HTTP 200" in report["reachable"]
    assert "none configured, none required" in report["bearer"]
    assert f"client {DEMO[0].client_number}: " in report["client"]
    assert report["client"].split()[1] == "ok"
    assert not env.exists() and not env.parent.exists()  # no database, no folder


def test_a_wrong_password_fails_the_client_check_without_showing_it(
    live: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients(tmp_path / "w.csv", "WrongPassword1")))
    assert main(["connect"]) == 1
    out = capsys.readouterr().out
    report = {line.split()[0]: line for line in out.splitlines()}
    assert report["bearer"].split()[1] == "ok"
    assert report["client"].split()[1] == "failed"
    assert "wrong API password (ResponseCode 6)" in report["client"]
    assert str(DEMO[0].client_number) in report["client"]
    assert "WrongPassword1" not in out


def test_a_bad_bearer_token_fails_the_bearer_check(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    with SimulatorServer(SimulatorConfig(auth=AuthSpec(ACCESS))) as server:
        monkeypatch.setenv("HYPER_BASE_URL", server.url)
        monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients(tmp_path / "c.csv")))
        monkeypatch.setenv("HYPER_ACCESS_TOKEN", "TOKENnotTheRightOne")
        assert main(["check-instance"]) == 1
        report = lines(capsys)
        assert report["bearer"].split()[1] == "failed"
        assert "rejected (HTTP 401)" in report["bearer"]
        assert report["client"].split()[1] == "skipped"
        # The right token passes; no token at all is named as the missing piece.
        monkeypatch.setenv("HYPER_ACCESS_TOKEN", ACCESS)
        assert main(["check-instance"]) == 0
        assert "accepted (static token)" in lines(capsys)["bearer"]
        monkeypatch.delenv("HYPER_ACCESS_TOKEN")
        assert main(["check-instance"]) == 1
        assert "the instance wants a bearer token" in lines(capsys)["bearer"]
    assert not env.exists()


def test_an_expired_token_is_refreshed_by_the_check(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    with SimulatorServer(SimulatorConfig(auth=AuthSpec(ACCESS, REFRESH))) as server:
        server.state.auth.expire()
        monkeypatch.setenv("HYPER_BASE_URL", server.url)
        monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients(tmp_path / "c.csv")))
        monkeypatch.setenv("HYPER_ACCESS_TOKEN", ACCESS)
        monkeypatch.setenv("HYPER_REFRESH_TOKEN", REFRESH)
        assert main(["check-instance"]) == 0
        out = capsys.readouterr().out
        assert "accepted after a refresh" in out
        assert server.state.auth.refreshes == 1
        assert ACCESS not in out and REFRESH not in out
        assert server.state.auth.access_token not in out


def test_an_unreachable_url_fails_the_first_check_and_skips_the_rest(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("HYPER_BASE_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients(tmp_path / "c.csv")))
    assert main(["check-instance"]) == 1
    report = lines(capsys)
    assert report["reachable"].split()[1] == "failed"
    assert "no answer from http://127.0.0.1:9 (connection error)" in report["reachable"]
    assert report["bearer"].split()[1] == report["client"].split()[1] == "skipped"


def test_a_client_missing_from_the_file_is_a_configuration_error(
    live: SimulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-instance", "--client", "999999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "client 999999 is not in the clients file" in err[0]
