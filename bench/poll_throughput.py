"""How fast a polling round runs against the simulator, relative to bare HTTP.

Reference (measured in the same run): the same requests sent with the same worker count and
one keep-alive session, doing nothing with the answers. The pipeline's round additionally
classifies each body, lands raw bodies and attempts in DuckDB, and is followed by the polars
normalization and the snapshot/line append. Prints requests/s for both and the ratio.

    uv run python bench/poll_throughput.py [--clients 500] [--slots 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from pipeline.hyper import Credential, HyperClient
from pipeline.rounds.ingest import ingest_range
from pipeline.rounds.landing import Lander
from pipeline.rounds.poll import poll_slots
from pipeline.simulator import (
    SEED_EXAMPLE_INSTANT,
    SimulatorConfig,
    SimulatorServer,
    demo_credentials,
)
from pipeline.store import Database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=500, help="extra simulated clients")
    parser.add_argument("--slots", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    config = SimulatorConfig(n_extra_clients=args.clients)
    creds = [Credential(c.client_number, c.api_password, c.label) for c in demo_credentials(config)]
    slots = [SEED_EXAMPLE_INSTANT + timedelta(hours=i) for i in range(args.slots)]
    requests_total = len(creds) * len(slots)

    with SimulatorServer(config) as server, HyperClient(server.url, pool_size=args.workers) as hc:
        # Warm the simulator's price caches so neither measurement pays for them.
        for slot in slots:
            hc.fetch_balance(creds[0], as_of=slot)

        started = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            for slot in slots:
                list(pool.map(lambda c, s=slot: hc.fetch_balance(c, as_of=s), creds))
        reference = time.perf_counter() - started

        with tempfile.TemporaryDirectory() as tmp:
            db = Database(Path(tmp) / "b.duckdb")
            lander = Lander(db, "bench", {})
            started = time.perf_counter()
            poll_slots(
                hc, creds, lander, slots=slots, as_of_for=lambda s: s, max_workers=args.workers
            )
            polled = time.perf_counter() - started
            started = time.perf_counter()
            ingested = ingest_range(db, slots[0], slots[-1] + timedelta(hours=1))
            normalize = time.perf_counter() - started

    print(f"requests:            {requests_total} ({len(creds)} clients x {len(slots)} slots)")
    print(f"bare HTTP reference: {requests_total / reference:8.0f} requests/s")
    print(f"pipeline poll:       {requests_total / polled:8.0f} requests/s")
    print(f"poll / reference:    {reference / polled:8.2f} (1.00 = as fast as bare HTTP)")
    stats = lander.stats
    print(
        f"landing:             {stats.batches} short write sessions, "
        f"{stats.overhead_per_batch * 1000:.1f} ms each on average "
        f"(longest {stats.longest_session * 1000:.0f} ms), {stats.spooled} spooled"
    )
    print(
        f"normalize + append:  {ingested.lines / normalize:8.0f} lines/s "
        f"({ingested.snapshots} snapshots, {ingested.lines} lines in {normalize:.2f} s)"
    )


if __name__ == "__main__":
    main()
