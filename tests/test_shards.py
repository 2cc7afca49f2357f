"""Shards: append-only clients, full rounds into a DuckLake, partitions of the clients file."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest
from clock import DAILY_CRON, within_one_slot
from test_migrations import UNVERSIONED

from pipeline.analytics.queries import bind, load_query, run_bound
from pipeline.analytics.readonly import open_readonly
from pipeline.hyper import Credential
from pipeline.hyper.credentials import load_credentials
from pipeline.rounds.ingest import ingest_range
from pipeline.rounds.landing import Lander
from pipeline.rounds.poll import poll_slots
from pipeline.rounds.shards import hash_part, parse_shard, select_shard
from pipeline.rounds.source import make_client
from pipeline.settings import ConfigurationError, Settings, child_environment
from pipeline.simulator import SimulatorConfig, SimulatorServer, demo_credentials
from pipeline.simulator.credentials import write_credentials_csv
from pipeline.store import Database
from pipeline.store.database import connect
from pipeline.store.store import Store
from tests.pg import LakeFixture

SLOT = datetime(2026, 3, 1, 10, tzinfo=UTC)

# The `clients` table as stores made before client_sightings have it.


def _clients(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select client_number, label, first_seen, last_seen from clients order by 1"
    ).fetchall()


def test_an_old_clients_table_becomes_sightings_behind_a_view_of_the_same_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute("set TimeZone = 'UTC'")
    for ddl in sorted(UNVERSIONED.glob("*.sql")):  # the layout of 4319568: a clients TABLE
        old.execute(ddl.read_text())
    old.execute(
        "insert into clients values (1, 'alpha', $a, $b), (2, null, $a, $a)",
        {"a": SLOT, "b": SLOT.replace(hour=12)},
    )
    before = _clients(old)
    old.close()

    for _ in range(2):  # the upgrade happens once; a second connect finds nothing to do
        con = connect(path)
        kind = con.execute(
            "select table_type from information_schema.tables where table_name = 'clients'"
        ).fetchone()
        assert kind == ("VIEW",)
        assert _clients(con) == before
        assert con.execute("select count(*) from client_sightings").fetchone() == (3,)
        con.close()


def test_the_view_keeps_the_latest_label_and_the_widest_range(tmp_path: Path) -> None:
    con = connect(tmp_path / "s.duckdb")
    con.execute(
        "insert into client_sightings values "
        "(5, 'old', $a), (5, null, $c), (5, 'new', $b), (5, null, $a)",
        {"a": SLOT, "b": SLOT.replace(hour=11), "c": SLOT.replace(hour=13)},
    )
    assert _clients(con) == [(5, "new", SLOT, SLOT.replace(hour=13))]


# --- a full round into a lake ---------------------------------------------------------------


def _simulator_credentials(config: SimulatorConfig) -> list[Credential]:
    return [Credential(c.client_number, c.api_password, c.label) for c in demo_credentials(config)]


def _per_client_snapshots(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    rows = con.execute(
        "select client_number, count(*) from balance_snapshots group by client_number"
    ).fetchall()
    return dict(rows)


@pytest.mark.slow
def test_a_full_round_lands_in_a_lake_once_and_a_re_run_adds_nothing(lake: LakeFixture) -> None:
    config = SimulatorConfig(n_extra_clients=40)
    credentials = _simulator_credentials(config)
    db = Database(Path(lake.url), lake_data_path=str(lake.data_path))
    counts = []
    for run in ("first", "again"):
        with SimulatorServer(config) as server, make_client(Settings(), server.url) as client:
            poll_slots(
                client,
                credentials,
                Lander(db, run, {c.client_number: c.label for c in credentials}),
                slots=[SLOT],
                as_of_for=lambda slot: slot,
            )
        ingest_range(db, SLOT, SLOT + timedelta(hours=1))
        with db.writer() as store:
            counts.append(store.table_counts())
            per_client = _per_client_snapshots(store.con)
            clients = store.con.execute(
                "select count(*), count(label), min(first_seen), max(last_seen) from clients"
            ).fetchone()
    assert per_client == {c.client_number: 1 for c in credentials}
    assert clients == (len(credentials), len(credentials), SLOT, SLOT)
    assert counts[1] == counts[0]
    assert counts[0]["balance_lines"] > counts[0]["balance_snapshots"] == len(credentials)


# --- shards -----------------------------------------------------------------------------------


def test_hash_parts_are_disjoint_complete_and_stable() -> None:
    credentials = [Credential(n, "pw") for n in range(100_000, 102_000)]
    for parts in (1, 2, 3, 4, 7):
        chosen = [
            select_shard(credentials, parse_shard(f"{k}/{parts}")) for k in range(1, 1 + parts)
        ]
        numbers = [c.client_number for part in chosen for c in part]
        assert sorted(numbers) == [c.client_number for c in credentials]  # complete, disjoint
        # Balanced enough to share a budget: no part more than 15% off its share.
        assert all(
            abs(len(p) - len(credentials) / parts) < 0.15 * len(credentials) / parts for p in chosen
        )
    # The part depends on the number alone, not on the file's order or the rest of the book.
    alone = [c for c in credentials[::-1] if hash_part(c.client_number, 4) == 3]
    assert sorted(alone, key=lambda c: c.client_number) == select_shard(
        credentials, parse_shard("3/4")
    )


def test_a_shard_name_selects_exactly_its_rows_of_the_clients_file(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(
        "client_number,api_password,label,shard\n"
        "11,pw-a,Alice,east\n12,pw-b,,west\n13,pw-c,Carol,east\n14,pw-d\n15,pw-e,Eve\n"
    )
    credentials = load_credentials(path)
    assert [c.shard for c in credentials] == ["east", "west", "east", None, None]
    assert [c.client_number for c in select_shard(credentials, parse_shard("east"))] == [11, 13]
    assert [c.client_number for c in select_shard(credentials, parse_shard("west"))] == [12]
    # K/N ignores the column: every row is in exactly one part, with or without a shard.
    halves = [select_shard(credentials, parse_shard(f"{k}/2")) for k in (1, 2)]
    assert sorted(c.client_number for h in halves for c in h) == [11, 12, 13, 14, 15]
    with pytest.raises(ConfigurationError, match="east, west"):
        select_shard(credentials, parse_shard("north"))


@pytest.mark.parametrize("text", ["0/4", "5/4", "", "  "])
def test_a_malformed_shard_is_one_clear_error(text: str) -> None:
    with pytest.raises(ConfigurationError, match="--shard"):
        parse_shard(text)


# --- egress ------------------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 to anything and records who asked for what (a target or a proxy)."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.client_address[0], self.path))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_source_address_binds_the_shards_requests(
    recorder: tuple[str, list[tuple[str, str]]],
) -> None:
    url, seen = recorder
    with make_client(Settings(), url) as client:
        assert client.is_reachable()
    with make_client(Settings(source_address="127.0.0.2"), url) as client:
        assert client.is_reachable()
    assert [who for who, _ in seen] == ["127.0.0.1", "127.0.0.2"]


def test_a_proxy_url_carries_the_shards_requests(
    recorder: tuple[str, list[tuple[str, str]]],
) -> None:
    proxy, seen = recorder
    # The instance's host does not resolve: only the proxy can have answered.
    with make_client(Settings(proxy_url=proxy), "http://hyper.invalid:8080") as client:
        assert client.is_reachable()
    assert len(seen) == 1 and seen[0][1].startswith("http://hyper.invalid:8080/")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HYPER_SOURCE_ADDRESS": "eth0"}, "not an IP address"),
        ({"HYPER_PROXY_URL": "socks5://p:1080"}, "http:// or https://"),
        ({"HYPER_PROXY_URL": "http://u:secret@p:3128"}, "must not carry credentials"),
        ({"HYPER_SOURCE_ADDRESS": "10.0.0.1", "HYPER_PROXY_URL": "http://p:3128"}, "not both"),
    ],
)
def test_egress_settings_are_validated(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        Settings.from_env(env)
    assert "secret" not in str(caught.value)


# --- done when: four shards at once into one lake, an analyst reading meanwhile ---------------

SHARDS = 4
EXTRA_CLIENTS = 900  # ≥ 200 clients in every hash part (checked below)


def _pipeline(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # Output to a file: a full pipe would stall a shard that writes progress.
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", *args], env=env, stdout=out, stderr=out
        )


class _Analyst:
    """An analyst reading the lake while the shards write: `largest_locked` in a loop.

    A thread of this process, through the code `pipeline query` runs (a read-only open of the
    lake, the named query, a close per read): the processes that matter here are the four
    shard writers; a reader process per read cost 3-4 CPU-s each and proved nothing more.
    """

    PAUSE_SECONDS = 2.0  # between reads, as a person would (a read is ≈ 0.4 CPU-s)

    def __init__(self, url: str) -> None:
        self.url = url
        self.reads = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="analyst", daemon=True)

    def _read(self) -> None:
        con = open_readonly(self.url, wait_seconds=30.0)
        try:
            run_bound(con, "largest_locked", bind(load_query("largest_locked"), {}))
        finally:
            con.close()
        self.reads += 1

    def _loop(self) -> None:
        try:
            self._read()  # at least one read, however quick the shards are
            while not self._stop.wait(self.PAUSE_SECONDS):
                self._read()
        except BaseException as error:  # every read must succeed: the first failure is kept
            self.errors.append(error)

    def __enter__(self) -> _Analyst:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        assert not self._thread.is_alive(), "the analyst's read did not end"


def _run_shards(env: dict[str, str], logs: Path, url: str) -> tuple[list[tuple[int, str]], int]:
    """Start every shard at once; query the lake in a loop until they all end."""
    logs.mkdir(exist_ok=True)
    with _Analyst(url) as analyst:
        shards = [
            _pipeline(["run", "--shard", f"{k}/{SHARDS}"], env, logs / f"shard{k}.log")
            for k in range(1, 1 + SHARDS)
        ]
        results = [
            (p.wait(timeout=300), (logs / f"shard{k}.log").read_text())
            for k, p in enumerate(shards, start=1)
        ]
    assert not analyst.errors, analyst.errors[0]
    assert analyst.reads >= 1
    return results, analyst.reads


@pytest.mark.slow
def test_four_shards_poll_one_simulator_into_one_lake_while_an_analyst_reads(
    lake: LakeFixture, tmp_path: Path
) -> None:
    config = SimulatorConfig(n_extra_clients=EXTRA_CLIENTS)
    clients_file = write_credentials_csv(tmp_path / "clients.csv", config)
    numbers = {c.client_number for c in demo_credentials(config)}
    parts = Counter(hash_part(n, SHARDS) for n in numbers)
    assert min(parts.values()) >= 200, parts
    # The lake exists before the analyst's first read (a reader never creates one).
    con = connect(lake.url, lake_data_path=str(lake.data_path))
    with SimulatorServer(config) as server:
        env = child_environment(
            {
                "PIPELINE_DB": lake.url,
                "PIPELINE_LAKE_DATA_PATH": str(lake.data_path),
                "HYPER_BASE_URL": server.url,
                "HYPER_CLIENTS_FILE": str(clients_file),
                "HYPER_RATE_LIMIT_PER_MINUTE": "0",
                "HYPER_TOKEN_STATE_FILE": str(tmp_path / "tokens.json"),
                "PIPELINE_POLL_CRON": DAILY_CRON,
            }
        )
        env.pop("DAGSTER_HOME", None)  # an ephemeral Dagster instance per shard
        within_one_slot(300)  # both rounds in one slot: the re-run must find it complete
        started = time.perf_counter()
        results, reads = _run_shards(env, tmp_path / "first", lake.url)
        first_seconds = time.perf_counter() - started
        assert [rc for rc, _ in results] == [0] * SHARDS, [log[-2000:] for _, log in results]
        first_reads = reads

        per_client = _per_client_snapshots(con)
        assert per_client == dict.fromkeys(numbers, 1)
        duplicates = con.execute(
            """
            select
                (select count(*) - count(distinct (client_number, slot_start))
                 from balance_snapshots),
                (select count(*) - count(distinct (client_number, slot_start, currency))
                 from balance_lines),
                (select count(*) - count(distinct raw_id) from raw_responses),
                (select count(*) - count(distinct (run_id, slot_start, client_number, attempt))
                 from fetch_attempts),
                (select count(*) - count(distinct client_number) from clients)
            """
        ).fetchone()
        assert duplicates == (0, 0, 0, 0, 0)
        assert con.execute("select count(*) from clients").fetchone() == (len(numbers),)
        # No shard queued behind another: a lake takes no run lock.
        assert not any("another run is writing" in log for _, log in results)
        sightings = "select count(*) from client_sightings"
        before = (Store(con).table_counts(), con.execute(sightings).fetchone())

        # Every shard again, in the same slot: every client is complete, nothing is asked twice.
        results, reads = _run_shards(env, tmp_path / "again", lake.url)
        assert [rc for rc, _ in results] == [0] * SHARDS, [log[-2000:] for _, log in results]
        assert (Store(con).table_counts(), con.execute(sightings).fetchone()) == before
    print(
        f"\n{SHARDS} shards, {len(numbers)} clients: first round {first_seconds:.1f} s, "
        f"{first_reads} + {reads} analyst reads meanwhile, all answered"
    )
