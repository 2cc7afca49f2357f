"""No password or token anywhere: DuckDB bytes, logs, captured output, Dagster's storage.

Runs `pipeline demo` (with its notebook report), `pipeline run`, `raw export` and `replay`
(in-process, with DAGSTER_HOME in tmp) against a simulator that requires a refreshable bearer,
expires it mid-way and injects every fault, with
recognizable secrets: `TOKENsecret...` tokens and `SECRETpw...` passwords (wrong ones, so error
paths run too) next to the demo book's real passwords. It is also the demo-passwords test: the
demo's own book, its report (notebook outputs and charts included) and Dagster's storage are
scanned for the demo's passwords; a `pipeline demo` subprocess doing the same proved nothing
more for 9 CPU-seconds.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.hyper.redact import install_log_redaction, redact, register_secrets
from pipeline.simulator import SimulatorConfig, SimulatorServer, demo_credentials
from pipeline.simulator.faults import FaultPlan
from pipeline.simulator.gateway import AuthSpec

ACCESS = "TOKENsecretAccess" + "A" * 103
REFRESH = "TOKENsecretRefresh" + "R" * 182
WRONG = ["SECRETpwAlpha01", "SECRETpwBravo02"]


def scan(paths: list[Path], secrets: list[str]) -> list[str]:
    """Every (file, secret) pair where the secret's bytes occur in the file."""
    found = []
    for root in paths:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                found += [f"{path}: {s[:10]}…" for s in secrets if s.encode() in data]
    return found


@pytest.mark.slow
def test_no_secret_reaches_storage_logs_or_output(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = SimulatorConfig(
        n_extra_clients=16,
        auth=AuthSpec(ACCESS, REFRESH, rotate_refresh=True),
        faults=FaultPlan(rate=0.4, seed=3, timeout_seconds=1.0, retry_after_seconds=0),
    )
    demo = demo_credentials(config)
    clients = tmp_path / "clients.csv"
    with clients.open("w", newline="") as handle:
        writer = csv.writer(handle)
        for c in demo:
            writer.writerow([c.client_number, c.api_password, c.label])
        for i, password in enumerate(WRONG):  # real clients, wrong passwords: 401 code 6
            writer.writerow([demo[i].client_number + 100_000, password])
        writer.writerow([demo[0].client_number + 200_000, "SECRETpwCharlie3"])  # unknown client
    data, home, token_dir = tmp_path / "data", tmp_path / "dagster", tmp_path / "private"
    home.mkdir()
    env = {
        "DAGSTER_HOME": str(home),
        "PIPELINE_DB": str(data / "balances.duckdb"),
        "HYPER_CLIENTS_FILE": str(clients),
        "HYPER_ACCESS_TOKEN": ACCESS,
        "HYPER_REFRESH_TOKEN": REFRESH,
        "HYPER_TOKEN_STATE_FILE": str(token_dir / "tokens.json"),
        "HYPER_RATE_LIMIT_PER_MINUTE": "0",
        "HYPER_TIMEOUT_SECONDS": "0.5",
        "HYPER_BACKOFF_BASE_SECONDS": "0.01",
        "HYPER_BACKOFF_MAX_SECONDS": "0.05",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    assert main(["demo", "--days", "0.25"]) == 0
    with SimulatorServer(config) as server:
        monkeypatch.setenv("HYPER_BASE_URL", server.url)
        assert main(["run"]) == 0
        server.state.auth.expire()
        monkeypatch.setenv("PIPELINE_SIMULATOR_SEED", "42")
        assert main(["run"]) == 0  # a re-run: the expired token is refreshed and rotated
        assert server.state.auth.refreshes >= 1
        issued = [server.state.auth.access_token, server.state.auth.refresh_token]
    # Audit and replay paths, plus the report the demo rendered (notebook outputs), are scanned
    # with the rest of the data folder below.
    assert main(["raw", "export", "--out", str(data / "archive.ndjson.gz")]) == 0
    assert main(["replay"]) == 0
    report = data / "report" / "report.html"
    assert b"data:image/png;base64," in report.read_bytes()  # the notebooks' charts were scanned

    secrets = [ACCESS, REFRESH, *issued, *WRONG, "SECRETpwCharlie3"]
    secrets += [c.api_password for c in demo]
    out, err = capfd.readouterr()
    assert f"report:      {report.resolve()}" in out
    assert any(home.rglob("*.db")), "Dagster wrote no storage"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [s for s in secrets if s in out or s in err or s in logged]
    assert not scan([data, home], secrets)
    # The refreshed pair lives only in the private token-state file.
    assert issued[0] in (token_dir / "tokens.json").read_text()
    assert "client " in logged  # errors were logged, naming clients


def test_log_records_are_redacted_whatever_the_logger(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    register_secrets(["SECRETpwDelta04", "TOKENsecretEcho"])
    with caplog.at_level(logging.INFO):
        logging.getLogger("anything.at.all").info(
            "client 500601 sent %s with bearer %s", "SECRETpwDelta04", "TOKENsecretEcho"
        )
    assert caplog.records[-1].getMessage() == "client 500601 sent *** with bearer ***"
    assert redact("no secret here") == "no secret here"
