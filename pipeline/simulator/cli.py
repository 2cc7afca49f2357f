"""`python -m pipeline.simulator`: serve a simulated Hyper instance until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import threading
from pathlib import Path

from pipeline.simulator.config import BASE_CURRENCIES, SimulatorConfig
from pipeline.simulator.credentials import write_credentials_csv
from pipeline.simulator.server import SimulatorServer

DEFAULT_CREDENTIALS_OUT = Path("data/demo_credentials.csv")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.simulator", description="Serve a simulated Hyper ERP instance."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port (default)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--base-currency", default="ILS", choices=BASE_CURRENCIES)
    parser.add_argument("--extra-clients", type=int, default=0, metavar="N")
    parser.add_argument("--credentials-out", type=Path, default=DEFAULT_CREDENTIALS_OUT)
    args = parser.parse_args(argv)

    config = SimulatorConfig(
        seed=args.seed,
        base_currency=args.base_currency,
        n_extra_clients=args.extra_clients,
        host=args.host,
        port=args.port,
    )
    credentials = write_credentials_csv(args.credentials_out, config)
    with SimulatorServer(config) as server:
        print(f"Hyper simulator listening on {server.url}", flush=True)
        print(f"demo credentials written to {credentials}; Ctrl-C to stop", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0
