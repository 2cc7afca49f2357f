"""A hostile instance: 200 clients, 20% of them faulted with every kind the issue lists.

"A second run adds no row" is pinned precisely here: re-running the slot against the same faults
adds no snapshot or line, and never re-fetches a client that already has its snapshot; clients
whose final attempt failed ARE polled again (that is the point of a re-run), so their new
attempts are the only new rows. Once the faults are gone and every client is complete, a
further run adds no row to any table.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.hyper import Credential, HyperClient
from pipeline.hyper.retry import RetryPolicy
from pipeline.rounds.ingest import ingest_range
from pipeline.rounds.landing import Lander
from pipeline.rounds.poll import poll_slot
from pipeline.simulator import SEED_EXAMPLE_INSTANT, SimulatorConfig, SimulatorServer
from pipeline.simulator.credentials import demo_credentials
from pipeline.simulator.faults import (
    ALL_FAULTS,
    BENIGN_FAULTS,
    FINAL_FAULTS,
    TRANSIENT_FAULTS,
    FaultPlan,
)
from pipeline.store import Database
from tests.invariants import assert_no_snapshot_without_lines

SLOT = SEED_EXAMPLE_INSTANT
N_CLIENTS = 200
BASE = SimulatorConfig(n_extra_clients=N_CLIENTS - 14)
FINAL_OUTCOME = {
    "forbidden_403": "api_error",
    "truncated_json": "invalid_response",
    "duplicate_currency": "invalid_response",
    "mixed_bases": "invalid_response",
    "nan_token": "invalid_response",
    "invalid_utf8": "invalid_response",
    "oversize": "invalid_response",
    "overflow": "invalid_response",  # Balance - Cash does not fit DECIMAL(38,8)
}


class FakeSleep:
    """Records the waits the retry policy asked for instead of sleeping them."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)


def faulted_clients(numbers: list[int]) -> dict[int, str]:
    """Every fifth client (20%), kinds assigned round-robin so each kind appears 2-3 times."""
    chosen = numbers[::5]
    return {number: ALL_FAULTS[i % len(ALL_FAULTS)] for i, number in enumerate(chosen)}


def credentials(config: SimulatorConfig) -> list[Credential]:
    return [Credential(c.client_number, c.api_password, c.label) for c in demo_credentials(config)]


def run_round(url: str, db: Path, run_id: str, sleep: FakeSleep) -> tuple:
    client = HyperClient(
        # 1.5 s: a loaded machine (16 client threads and the simulator share one GIL, beside
        # 10 MB oversize bodies) once kept a healthy answer past 0.5 s and it was retried.
        url,
        timeout_seconds=1.5,
        pool_size=16,
        retry=RetryPolicy(max_attempts=3, sleep=sleep),
    )
    database = Database(db)
    lander = Lander(database, run_id, {})
    with client:
        summary = poll_slot(
            client, credentials(BASE), lander, slot_start=SLOT, as_of=SLOT, max_workers=16
        )
    lander.finish()
    ingest_range(database, SLOT, SLOT + timedelta(hours=1))
    with database.writer() as store:
        counts = store.table_counts()
    return summary, counts


def final_attempts(db: Path, run_id: str) -> dict[int, tuple[int, str, str | None]]:
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        """
        select client_number, attempt, outcome, error from fetch_attempts
        where run_id = ? qualify attempt = max(attempt) over (partition by client_number)
        """,
        [run_id],
    ).fetchall()
    con.close()
    return {number: (attempt, outcome, error) for number, attempt, outcome, error in rows}


@pytest.fixture(scope="module")
def plan() -> FaultPlan:
    numbers = [c.client_number for c in demo_credentials(BASE)]
    assert len(numbers) == N_CLIENTS
    return FaultPlan(
        clients=faulted_clients(numbers),
        seed=11,
        clear_probability=0.4,
        latency_seconds=0.05,
        timeout_seconds=3.0,  # the "timeout" fault: twice the client's timeout
        retry_after_seconds=1,
    )


@pytest.mark.slow
def test_200_clients_with_20_percent_faults_end_recorded_and_rerun_adds_nothing(
    plan: FaultPlan, tmp_path: Path
) -> None:
    db = tmp_path / "faults.duckdb"
    sleep = FakeSleep()
    faulty = SimulatorConfig(n_extra_clients=BASE.n_extra_clients, faults=plan)
    started = time.perf_counter()
    with SimulatorServer(faulty) as server:
        summary, counts = run_round(server.url, db, "run-1", sleep)
        seconds = time.perf_counter() - started
        finals = final_attempts(db, "run-1")

        # Every client ends with a snapshot or a recorded final failure, and the counts add up.
        assert summary.clients == N_CLIENTS and len(finals) == N_CLIENTS
        assert sum(summary.final_outcomes.values()) == N_CLIENTS
        assert summary.requests == counts["fetch_attempts"] == sum(a for a, _, _ in finals.values())
        con = duckdb.connect(str(db), read_only=True)
        snapshots = {
            r[0] for r in con.execute("select client_number from balance_snapshots").fetchall()
        }
        ok_finals = {n for n, (_, o, _) in finals.items() if o in ("ok", "restricted")}
        assert snapshots == ok_finals
        assert counts["balance_snapshots"] == len(ok_finals)
        assert counts["balance_snapshots"] + summary.failed_clients == N_CLIENTS
        assert_no_snapshot_without_lines(con)

        # Every kind ends as the contract says.
        by_kind: dict[str, list[tuple[int, str]]] = {}
        for number, kind in plan.clients.items():
            attempt, outcome, _ = finals[number]
            by_kind.setdefault(kind, []).append((attempt, outcome))
        assert set(by_kind) == set(ALL_FAULTS)
        for kind in BENIGN_FAULTS:
            assert all(o == "ok" or o == "restricted" for _, o in by_kind[kind]), kind
        for kind in FINAL_FAULTS:
            assert all(o == FINAL_OUTCOME[kind] and a == 1 for a, o in by_kind[kind]), kind
        transient = [ao for k in TRANSIENT_FAULTS for ao in by_kind[k]]
        recovered = [a for a, o in transient if o in ("ok", "restricted")]
        exhausted = [a for a, o in transient if o not in ("ok", "restricted")]
        assert recovered and all(a >= 2 for a in recovered)
        assert exhausted and all(a == 3 for a in exhausted)
        # Retry-After (1 s) was honoured for 423/429; the fake sleep kept the test fast.
        assert any(w >= 1.0 for w in sleep.waits)

        # Bad bodies are kept byte-exact (capped, with the cap recorded); drift is counted.
        oversized = con.execute(
            "select count(*) from raw_responses where body_truncated and body_size > 10485760"
        ).fetchone()[0]
        assert oversized == len(by_kind["oversize"])
        base64_bodies = con.execute(
            "select count(*) from raw_responses where body_encoding = 'base64'"
        ).fetchone()[0]
        assert base64_bodies == len(by_kind["invalid_utf8"])
        assert summary.schema_drift_fields["Server_Build"] == len(by_kind["extra_fields"])
        errors = [
            e
            for (e,) in con.execute(
                "select error from fetch_attempts where error is not null"
            ).fetchall()
        ]
        passwords = [c.api_password for c in credentials(BASE)]
        assert not [e for e in errors if any(p in e for p in passwords)]
        assert all("\n" not in e and e.startswith("client ") for e in errors)
        con.close()

        # Re-run with the same faults: no snapshot/line added, complete clients not re-fetched.
        before = {n: server.state.faults.requests_for(n) for n in snapshots}
        summary2, counts2 = run_round(server.url, db, "run-2", sleep)
        assert {n: server.state.faults.requests_for(n) for n in snapshots} == before
        assert summary2.skipped == len(snapshots)
        assert counts2["balance_lines"] >= counts["balance_lines"]
        finals2 = final_attempts(db, "run-2")
        assert set(finals2) == set(finals) - snapshots

    # Faults gone: the rest completes; then one more run adds no row to any table.
    with SimulatorServer(BASE) as clean:
        _, counts3 = run_round(clean.url, db, "run-3", sleep)
        _, counts4 = run_round(clean.url, db, "run-4", sleep)
    assert counts4 == counts3
    # Persistent bad answers for this slot stay failures only until the instance answers well.
    assert counts3["balance_snapshots"] == N_CLIENTS
    print(f"\n200-client faults round: {seconds:.2f} s, finals {Counter(summary.final_outcomes)}")
