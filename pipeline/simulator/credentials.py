"""The demo clients' credentials, as the pipeline's HYPER_CLIENTS_FILE expects them."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.simulator.clients import client_book
from pipeline.simulator.config import SimulatorConfig


@dataclass(frozen=True)
class DemoCredential:
    client_number: int
    api_password: str = field(repr=False)
    label: str = ""


def demo_credentials(config: SimulatorConfig) -> list[DemoCredential]:
    """Every client of the instance (demo book, then extra clients), in number order."""
    book = client_book(config.seed, config.n_extra_clients)
    return [DemoCredential(spec.number, spec.password, spec.label) for spec in book.values()]


def write_credentials_csv(path: Path, config: SimulatorConfig) -> Path:
    """Write `client_number,api_password,label` rows to `path` (parents created); return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["client_number", "api_password", "label"])
        for credential in demo_credentials(config):
            writer.writerow([credential.client_number, credential.api_password, credential.label])
    return path
