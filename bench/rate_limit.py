"""A polling round against a simulator that enforces N requests per window, paced client-side.

The simulator answers 429 past N requests per caller in any sliding window (the vendor's rule,
with a minute as the window); the pipeline's pacer spaces requests evenly at N per window. The
round goes through the real `poll_slot` (workers, classification, DuckDB landing). Prints the
ratio of the round's duration to clients / N windows (target: within 10% of 1.0) and how many
429s the simulator drew (target: 0).

    uv run python bench/rate_limit.py [--per-window 30] [--window 6] [--clients 90]
    uv run python bench/rate_limit.py --per-window 20 --window 60 --clients 60   # the real minute
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pipeline.hyper import Credential, HyperClient
from pipeline.hyper.ratelimit import RequestPacer
from pipeline.hyper.retry import RetryPolicy
from pipeline.rounds.landing import Lander
from pipeline.rounds.poll import poll_slot
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig, SimulatorServer
from pipeline.simulator.credentials import demo_credentials
from pipeline.simulator.gateway import RateLimitSpec
from pipeline.store import Database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-window", type=int, default=30, help="N requests per window")
    parser.add_argument("--window", type=float, default=6.0, help="window in seconds (60 = real)")
    parser.add_argument("--clients", type=int, default=90)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    config = SimulatorConfig(
        n_extra_clients=max(0, args.clients - 14),
        rate_limit=RateLimitSpec(args.per_window, args.window),
    )
    creds = [Credential(c.client_number, c.api_password) for c in demo_credentials(config)]
    creds = creds[: args.clients]
    with tempfile.TemporaryDirectory() as tmp, SimulatorServer(config) as server:
        client = HyperClient(
            server.url,
            pool_size=args.workers,
            pacer=RequestPacer(args.per_window, window_seconds=args.window),
            retry=RetryPolicy(max_attempts=4),
        )
        lander = Lander(Database(Path(tmp) / "bench.duckdb"), "bench", {})
        with client:
            started = time.perf_counter()
            summary = poll_slot(
                client,
                creds,
                lander,
                slot_start=SEED_EXAMPLE_INSTANT,
                as_of=SEED_EXAMPLE_INSTANT,
                max_workers=args.workers,
            )
            lander.finish()
            seconds = time.perf_counter() - started
        drawn = server.state.rate_limit.rejected
    expected = len(creds) / args.per_window * args.window
    print(
        f"{len(creds)} clients at {args.per_window} per {args.window:g} s: round {seconds:.2f} s, "
        f"clients/N = {expected:.2f} s, ratio {seconds / expected:.3f}; "
        f"429s drawn: {drawn}; requests {summary.requests}; "
        f"final outcomes {dict(summary.final_outcomes)}"
    )


if __name__ == "__main__":
    main()
