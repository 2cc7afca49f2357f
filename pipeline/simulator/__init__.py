"""A built-in HTTP simulator of a Hyper ERP instance's `Get_Client_Balance_json` endpoint.

It serves seeded demo clients whose balances, locks and statuses change by the hour and whose
currencies are revalued with per-currency random-walk prices, all deterministic in
(seed, instant). Money is computed with Decimal and written into the JSON text digit for digit.

Time: every answer is constant within an hour counted from SEED_EXAMPLE_INSTANT
(2026-11-01T12:00:00Z), the anchor of all price walks. At that instant, in an ILS instance,
client 500608 (password `8Lba7u5smABC`) answers exactly the figures of the vendor's example.
A request may ask for another instant with the simulator-only header `X-Simulator-As-Of:
<ISO-8601>` (naive means UTC); without it the wall clock is used.

Run one with `python -m pipeline.simulator`, or in-process:

    with SimulatorServer(SimulatorConfig(seed=42)) as server:
        requests.post(f"{server.url}/Get_Client_Balance_json", json={...})
"""

from pipeline.simulator.cli import main
from pipeline.simulator.config import (
    AS_OF_HEADER,
    SEED_EXAMPLE_CLIENT,
    SEED_EXAMPLE_INSTANT,
    SimulatorConfig,
)
from pipeline.simulator.credentials import DemoCredential, demo_credentials, write_credentials_csv
from pipeline.simulator.responses import balance_body
from pipeline.simulator.server import SimulatorServer

__all__ = [
    "AS_OF_HEADER",
    "SEED_EXAMPLE_CLIENT",
    "SEED_EXAMPLE_INSTANT",
    "DemoCredential",
    "SimulatorConfig",
    "SimulatorServer",
    "balance_body",
    "demo_credentials",
    "main",
    "write_credentials_csv",
]
