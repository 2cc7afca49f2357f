"""`pipeline check-instance` against the simulator as a live instance: nothing is landed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.simulator import SimulatorConfig, SimulatorServer, demo_credentials
from pipeline.simulator.gateway import AuthSpec

TOKEN = "TOKENcheckInstance" + "A" * 40


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("HYPER_", "PIPELINE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "never.duckdb"
    monkeypatch.setenv("PIPELINE_DB", str(db))
    monkeypatch.setenv("HYPER_RATE_LIMIT_PER_MINUTE", "0")
    monkeypatch.setenv("HYPER_BACKOFF_BASE_SECONDS", "0.01")
    return db


def clients(path: Path, config: SimulatorConfig, *, wrong: bool = False) -> Path:
    c = demo_credentials(config)[0]
    password = "Wrong" + c.api_password if wrong else c.api_password
    path.write_text(f"client_number,api_password\n{c.client_number},{password}\n")
    return path


@pytest.fixture
def secured() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig(auth=AuthSpec(TOKEN, None))) as server:
        yield server


def test_a_healthy_instance_passes_every_step_and_nothing_lands(
    env: Path, secured: SimulatorServer, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HYPER_BASE_URL", secured.url)
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients(tmp_path / "c.csv", SimulatorConfig())))
    monkeypatch.setenv("HYPER_ACCESS_TOKEN", TOKEN)
    assert main(["check-instance"]) == 0
    out = capsys.readouterr().out
    assert "ok   balance answer" in out and "FAIL" not in out
    assert TOKEN not in out
    assert not env.exists()  # nothing landed, no database made


def test_a_rejected_bearer_and_a_wrong_password_fail_their_step(
    env: Path, secured: SimulatorServer, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HYPER_BASE_URL", secured.url)
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients(tmp_path / "c.csv", SimulatorConfig())))
    monkeypatch.setenv("HYPER_ACCESS_TOKEN", "TOKENwrong" + "B" * 40)
    assert main(["check-instance"]) == 1
    assert "FAIL bearer" in capsys.readouterr().out
    monkeypatch.setenv("HYPER_ACCESS_TOKEN", TOKEN)
    wrong = clients(tmp_path / "w.csv", SimulatorConfig(), wrong=True)
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(wrong))
    assert main(["check-instance"]) == 1
    out = capsys.readouterr().out
    assert "ok   bearer" in out and "FAIL balance answer" in out and "wrong API password" in out


def test_an_unreachable_instance_is_one_line_and_exit_2(
    env: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HYPER_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients(tmp_path / "c.csv", SimulatorConfig())))
    assert main(["check-instance"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach" in err[0]
