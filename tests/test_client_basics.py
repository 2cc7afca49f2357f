"""The HTTP client and the clients file: timing, raw bodies, and no password in any text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.hyper import Credential, HyperClient, load_credentials
from pipeline.normalize.outcomes import classify
from pipeline.settings import ConfigurationError, Settings
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig, SimulatorServer

PASSWORD = "8Lba7u5smABC"


def test_fetch_returns_the_raw_body_status_and_timing() -> None:
    with SimulatorServer(SimulatorConfig()) as server, HyperClient(server.url) as client:
        exchange = client.fetch_balance(Credential(500608, PASSWORD), as_of=SEED_EXAMPLE_INSTANT)
    assert exchange.http_status == 200
    assert '"Total_Floating_Balance_ILS":' in exchange.body and "72888.65" in exchange.body
    assert exchange.duration_ms > 0 and exchange.observed_at >= exchange.requested_at
    assert classify(exchange).outcome == "ok"


def test_no_password_in_reprs_or_errors() -> None:
    credential = Credential(500608, PASSWORD, "seed")
    assert PASSWORD not in repr(credential)
    with HyperClient("http://127.0.0.1:9") as client:  # refused
        exchange = client.fetch_balance(credential)
        assert PASSWORD not in repr(client)
    assert exchange.http_status is None
    assert PASSWORD not in repr(exchange)
    verdict = classify(exchange)
    assert verdict.outcome == "network_error"
    assert verdict.error.startswith("client 500608: connection error")
    assert PASSWORD not in verdict.error


def test_wrong_password_is_an_auth_error_naming_the_client() -> None:
    with SimulatorServer(SimulatorConfig()) as server, HyperClient(server.url) as client:
        exchange = client.fetch_balance(Credential(500608, "NotThePass12"))
    verdict = classify(exchange)
    assert (verdict.outcome, verdict.response_code) == ("auth_error", 6)
    assert "client 500608" in verdict.error and "NotThePass12" not in verdict.error


def test_clients_file_accepts_header_labels_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("client_number,api_password,label\n# a comment\n500601,Abc123def456,Main\n\n")
    assert load_credentials(path) == [Credential(500601, "Abc123def456", "Main")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "lists no clients"),
        ("500601\n", "expected client_number,api_password[,label[,shard]] but found 1 fields"),
        ("500601,\n", "client 500601 has an empty api_password"),
        ("500601,Secret1,a\n500601,Secret2,b\n", "client 500601 is listed twice"),
    ],
)
def test_malformed_clients_files_are_configuration_errors(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=re.escape(message)) as info:
        load_credentials(path)
    assert "Secret" not in str(info.value)


def test_settings_reject_malformed_values() -> None:
    with pytest.raises(ConfigurationError, match="HYPER_TIMEOUT_SECONDS"):
        Settings.from_env({"HYPER_TIMEOUT_SECONDS": "soon"})
    with pytest.raises(ConfigurationError, match="must start with http"):
        Settings.from_env({"HYPER_BASE_URL": "broker.example"})
    settings = Settings.from_env({"PIPELINE_DB": "/tmp/x.duckdb"})
    assert settings.uses_simulator and settings.db_path == Path("/tmp/x.duckdb")
