"""The `pipeline` commands end to end: real Dagster runs, real simulator, real DuckDB files."""

from __future__ import annotations

from pathlib import Path

import pytest
from clock import DAILY_CRON, within_one_slot

from pipeline.cli import main
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig, demo_credentials
from pipeline.store import Store, connect

UNTIL = SEED_EXAMPLE_INSTANT.isoformat()


def counts(path: Path) -> dict[str, int]:
    con = connect(path, read_only=True)
    try:
        return Store(con).table_counts()
    finally:
        con.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "data" / "balances.duckdb"
    for name in ("HYPER_BASE_URL", "HYPER_CLIENTS_FILE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIPELINE_DB", str(db))
    return db


@pytest.mark.slow
def test_run_twice_in_one_slot_adds_no_row(
    env: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_POLL_CRON", DAILY_CRON)
    within_one_slot(60)
    assert main(["run"]) == 0
    first = counts(env)
    assert first["balance_snapshots"] == len(demo_credentials(SimulatorConfig())) - 0
    assert main(["run"]) == 0
    assert counts(env) == first
    out = capsys.readouterr().out
    assert "nothing to poll (complete)" in out


@pytest.mark.slow
def test_demo_twice_leaves_identical_row_counts_and_prints_a_summary(env: Path, capsys) -> None:
    # Six hourly slots: enough to see every slot land once and the second demo add nothing.
    assert main(["demo", "--days", "0.25", "--until", UNTIL, "--no-report"]) == 0
    out = capsys.readouterr().out
    for label in ("clients:", "snapshots:", "lines:", "currencies:", "time range:", "database:"):
        assert label in out
    assert str(env.resolve()) in out
    first = counts(env)
    assert first["balance_snapshots"] == 6 * len(demo_credentials(SimulatorConfig()))
    assert main(["demo", "--days", "0.25", "--until", UNTIL, "--no-report"]) == 0
    assert counts(env) == first


def test_a_missing_clients_file_is_a_one_line_configuration_error(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("HYPER_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(env.parent / "nope.csv"))
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.csv does not exist" in err[0]


def test_a_malformed_clients_file_names_the_line(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text("client_number,api_password\n500601,SecretPass12\nabc,OtherSecret9\n")
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients))
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "clients.csv:3" in err and "not a positive integer" in err
    assert "OtherSecret9" not in err and "SecretPass12" not in err


def test_an_unreachable_url_is_a_one_line_configuration_error(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text("500601,SecretPass12\n")
    monkeypatch.setenv("HYPER_BASE_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("HYPER_CLIENTS_FILE", str(clients))
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach HYPER_BASE_URL=http://127.0.0.1:9" in err[0]


@pytest.mark.slow
def test_a_local_env_file_configures_the_cli_without_overriding_the_environment(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from_file = tmp_path / "from_dotenv.duckdb"
    (tmp_path / ".env").write_text(
        f"PIPELINE_DB={from_file}\nPIPELINE_SIMULATOR_BASE_CURRENCY=EUR\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PIPELINE_DB")
    monkeypatch.setenv("PIPELINE_SIMULATOR_BASE_CURRENCY", "USD")  # the environment wins
    try:
        assert main(["run"]) == 0
    finally:
        os.environ.pop("PIPELINE_DB", None)  # set by the .env file, not by monkeypatch
    con = connect(from_file, read_only=True)
    try:
        bases = con.execute("select distinct base_currency from balance_lines").fetchall()
    finally:
        con.close()
    assert bases == [("USD",)]
