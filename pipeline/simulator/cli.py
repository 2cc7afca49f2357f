"""`python -m pipeline.simulator`: serve a simulated Hyper instance until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import threading
from pathlib import Path

from pipeline.settings import Settings
from pipeline.simulator.config import BASE_CURRENCIES, SimulatorConfig
from pipeline.simulator.credentials import write_credentials_csv
from pipeline.simulator.faults import ALL_FAULTS, FaultPlan
from pipeline.simulator.gateway import AuthSpec, RateLimitSpec
from pipeline.simulator.server import SimulatorServer

DEFAULT_CREDENTIALS_OUT = Path("data/demo_credentials.csv")


def main(argv: list[str] | None = None, *, settings: Settings | None = None) -> int:
    """Serve until Ctrl-C; bearer tokens for --require-bearer come from `settings`."""
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.simulator", description="Serve a simulated Hyper ERP instance."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port (default)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--base-currency", default="ILS", choices=BASE_CURRENCIES)
    parser.add_argument("--extra-clients", type=int, default=0, metavar="N")
    parser.add_argument("--credentials-out", type=Path, default=DEFAULT_CREDENTIALS_OUT)
    faults = parser.add_argument_group("faults on demand")
    faults.add_argument("--fault-rate", type=float, default=0.0, help="share of clients faulted")
    faults.add_argument(
        "--fault-kind", action="append", choices=ALL_FAULTS, help="kinds to draw (repeatable)"
    )
    faults.add_argument(
        "--fault-client", action="append", default=[], metavar="N:KIND", help="fault one client"
    )
    faults.add_argument("--fault-seed", type=int, default=0)
    faults.add_argument("--clear-probability", type=float, default=0.5)
    faults.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    faults.add_argument("--stall-seconds", type=float, default=2.0, help="the timeout fault")
    layers = parser.add_argument_group("protective layers")
    layers.add_argument("--rate-limit", type=int, default=0, help="requests per window per IP")
    layers.add_argument("--rate-window", type=float, default=60.0, help="seconds")
    layers.add_argument(
        "--require-bearer",
        action="store_true",
        help="require HYPER_ACCESS_TOKEN (refreshable with HYPER_REFRESH_TOKEN) from the env",
    )
    layers.add_argument("--token-lifetime", type=float, default=None, help="seconds")
    args = parser.parse_args(argv)

    plan = None
    if args.fault_rate or args.fault_client or args.latency:
        pairs = [item.split(":", 1) for item in args.fault_client]
        plan = FaultPlan(
            rate=args.fault_rate,
            kinds=tuple(args.fault_kind or ALL_FAULTS),
            clients={int(n): kind for n, kind in pairs},
            seed=args.fault_seed,
            clear_probability=args.clear_probability,
            base_latency_seconds=args.latency,
            timeout_seconds=args.stall_seconds,
        )
    auth = None
    if args.require_bearer:
        settings = settings or Settings.from_env()
        if not settings.access_token:
            parser.error("--require-bearer needs HYPER_ACCESS_TOKEN in the environment")
        auth = AuthSpec(settings.access_token, settings.refresh_token, args.token_lifetime)
    config = SimulatorConfig(
        seed=args.seed,
        base_currency=args.base_currency,
        n_extra_clients=args.extra_clients,
        host=args.host,
        port=args.port,
        faults=plan,
        auth=auth,
        rate_limit=RateLimitSpec(args.rate_limit, args.rate_window) if args.rate_limit else None,
    )
    credentials = write_credentials_csv(args.credentials_out, config)
    with SimulatorServer(config) as server:
        print(f"Hyper simulator listening on {server.url}", flush=True)
        print(f"demo credentials written to {credentials}; Ctrl-C to stop", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0
