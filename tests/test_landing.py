"""When a round's answers land: every 256 answers, when 64 MB of bodies wait, and the rest when
the round finishes (landing by age, after 2 s, is what the SIGKILL test in test_crash.py waits
for).

A landing is a write session on a real DuckDB file; each costs about the same whatever its
size, so the count of sessions is what these tests pin.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from pipeline.hyper.models import Exchange
from pipeline.normalize.outcomes import classify
from pipeline.rounds.landing import LANDING_BATCH, Lander
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig, demo_credentials
from pipeline.simulator.responses import balance_body
from pipeline.store import Database

SLOT = SEED_EXAMPLE_INSTANT


def answers(count: int, padding: int = 0) -> list[Exchange]:
    """`count` answers (the demo's first client's body) from as many clients; `padding` spaces
    after the body make it that much longer (still the same JSON)."""
    config = SimulatorConfig()
    client = demo_credentials(config)[0].client_number
    _, body = balance_body(config, client, SLOT)
    text = body.decode() + " " * padding
    exchanges = []
    for i in range(count):
        observed = SLOT + timedelta(milliseconds=i)
        exchanges.append(
            Exchange(
                client_number=client + i,
                attempt=1,
                requested_at=observed,
                observed_at=observed,
                duration_ms=1.0,
                http_status=200,
                body=text,
                body_size=len(text.encode()),
            )
        )
    return exchanges


def land(lander: Lander, exchanges: list[Exchange]) -> None:
    for exchange in exchanges:
        lander.add(SLOT, [(exchange, classify(exchange))])
    lander.finish()


def landed(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("select count(*) from fetch_attempts").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def test_a_fast_round_lands_in_batches_of_256(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    lander = Lander(Database(db), "run", {}, max_age_seconds=3600)
    land(lander, answers(2 * LANDING_BATCH + 10))
    assert lander.stats.batches == 3  # 256, 256, and the rest when the round finishes
    assert landed(db) == 2 * LANDING_BATCH + 10


def test_large_bodies_land_before_a_batch_fills(tmp_path: Path) -> None:
    # Bodies of ~10 kB against a 50 kB cap: a landing every five answers, not every 256.
    db = tmp_path / "b.duckdb"
    lander = Lander(Database(db), "run", {}, max_age_seconds=3600, max_bytes=50_000)
    land(lander, answers(20, padding=10_000))
    assert lander.stats.batches == 4
    assert landed(db) == 20
