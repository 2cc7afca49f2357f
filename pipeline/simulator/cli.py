"""`python -m pipeline.simulator`: serve a simulated Hyper instance until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import math
import threading
from pathlib import Path
from typing import NoReturn

from pipeline.settings import Settings
from pipeline.simulator.config import BASE_CURRENCIES, SimulatorConfig
from pipeline.simulator.credentials import write_credentials_csv
from pipeline.simulator.faults import ALL_FAULTS, FaultPlan
from pipeline.simulator.gateway import AuthSpec, RateLimitSpec
from pipeline.simulator.server import SimulatorServer

DEFAULT_CREDENTIALS_OUT = Path("data/demo_credentials.csv")


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments are one line and exit 2 (argparse would print the usage block too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _share(text: str) -> float:
    value = _non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be a finite number >= 0")
    return value


def _positive(text: str) -> float:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text} must be > 0")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be >= 0")
    return value


def _port(text: str) -> int:
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a TCP port (0-65535)")
    return value


def main(argv: list[str] | None = None, *, settings: Settings | None = None) -> int:
    """Serve until Ctrl-C; bearer tokens for --require-bearer come from `settings`."""
    parser = _OneLineParser(
        prog="python -m pipeline.simulator", description="Serve a simulated Hyper ERP instance."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=0, help="0 = a free port (default)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--base-currency", default="ILS", choices=BASE_CURRENCIES)
    parser.add_argument("--extra-clients", type=_count, default=0, metavar="N")
    parser.add_argument("--credentials-out", type=Path, default=DEFAULT_CREDENTIALS_OUT)
    faults = parser.add_argument_group("faults on demand")
    faults.add_argument("--fault-rate", type=_share, default=0.0, help="share of clients faulted")
    faults.add_argument(
        "--fault-kind", action="append", choices=ALL_FAULTS, help="kinds to draw (repeatable)"
    )
    faults.add_argument(
        "--fault-client", action="append", default=[], metavar="N:KIND", help="fault one client"
    )
    faults.add_argument("--fault-seed", type=int, default=0)
    faults.add_argument("--clear-probability", type=_share, default=0.5)
    faults.add_argument(
        "--latency", type=_non_negative, default=0.0, help="seconds added to every answer"
    )
    faults.add_argument(
        "--stall-seconds", type=_non_negative, default=2.0, help="the timeout fault"
    )
    layers = parser.add_argument_group("protective layers")
    layers.add_argument("--rate-limit", type=_count, default=0, help="requests per window per IP")
    layers.add_argument("--rate-window", type=_positive, default=60.0, help="seconds")
    layers.add_argument(
        "--require-bearer",
        action="store_true",
        help="require HYPER_ACCESS_TOKEN (refreshable with HYPER_REFRESH_TOKEN) from the env",
    )
    layers.add_argument("--token-lifetime", type=_positive, default=None, help="seconds")
    args = parser.parse_args(argv)

    plan = None
    if args.fault_rate or args.fault_client or args.latency:
        pairs = [item.split(":", 1) for item in args.fault_client]
        for pair in pairs:
            if len(pair) != 2 or not pair[0].isdigit() or pair[1] not in ALL_FAULTS:
                parser.error(
                    f"--fault-client {':'.join(pair)!r} must be N:KIND (KIND: a fault kind)"
                )
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
