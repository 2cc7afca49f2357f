"""A real PostgreSQL for the tests: the one CI started, or a throwaway cluster of our own.

`PIPELINE_TEST_POSTGRES` (a libpq conninfo naming a superuser, as `.ci/run` exports) wins.
Otherwise, when `initdb`/`pg_ctl` are installed (Debian's postgresql package keeps them in
/usr/lib/postgresql/<version>/bin), a cluster is created in a temp folder and started on
127.0.0.1 (≈ 1 s), run as the `postgres` user when we are root (PostgreSQL refuses root), and
stopped at the end. Without either, tests that need it skip saying why, except under CI,
where a missing PostgreSQL is a failure rather than a silently thinner run.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

TEST_POSTGRES_ENV = "PIPELINE_TEST_POSTGRES"
_START_ATTEMPTS = 3


@dataclass(frozen=True)
class Postgres:
    """A running server and a superuser conninfo for it (its `postgres` database)."""

    conninfo: str

    def parameters(self) -> dict[str, str]:
        """The conninfo's key=value pairs (host, port, user, dbname)."""
        return dict(re.findall(r"(\w+)\s*=\s*(\S+)", self.conninfo))

    def conninfo_for(self, dbname: str) -> str:
        """The same server and user, another database."""
        rest = re.sub(r"\bdbname\s*=\s*\S+", "", self.conninfo).strip()
        return f"{rest} dbname={dbname}"

    def create_database(self, hint: str = "test") -> str:
        """A new empty database; returns its conninfo."""
        name = re.sub(r"[^a-z0-9_]", "_", hint.lower())[:40] + "_" + uuid.uuid4().hex[:8]
        con = psycopg2.connect(self.conninfo)
        try:
            con.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with con.cursor() as cur:
                cur.execute(f'create database "{name}"')
        finally:
            con.close()
        return self.conninfo_for(name)

    def query(self, dbname: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        con = psycopg2.connect(self.conninfo_for(dbname))
        try:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            con.close()


@dataclass(frozen=True)
class LakeFixture:
    """A lake of one's own: a fresh catalog database and a fresh data folder."""

    conninfo: str
    data_path: Path

    @property
    def url(self) -> str:
        return "ducklake:postgres:" + self.conninfo

    @property
    def dbname(self) -> str:
        match = re.search(r"\bdbname=(\S+)", self.conninfo)
        assert match
        return match.group(1)


def new_lake(server: Postgres, folder: Path, hint: str) -> LakeFixture:
    return LakeFixture(server.create_database(hint), folder / "lake_data")


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres_user(command: list[str]) -> list[str]:
    # initdb and the server refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def throwaway_cluster(bin_dir: Path) -> Iterator[Postgres]:
    """initdb + pg_ctl start on 127.0.0.1 in a fresh temp folder; stopped and removed after."""
    # Not under pytest's tmp_path: /tmp/pytest-of-root is 0700, closed to the postgres user.
    home = Path(tempfile.mkdtemp(prefix="pipeline-pg-"))
    data = home / "data"
    try:
        if os.geteuid() == 0:
            shutil.chown(home, "postgres")
        subprocess.run(
            _as_postgres_user(
                [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
            ),
            check=True,
            capture_output=True,
        )
        port = _start(bin_dir, home, data)
        try:
            yield Postgres(f"host=127.0.0.1 port={port} user=postgres dbname=postgres")
        finally:
            subprocess.run(
                _as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                capture_output=True,
                check=False,
            )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _start(bin_dir: Path, home: Path, data: Path) -> int:
    last = ""
    for _ in range(_START_ATTEMPTS):  # a port free when picked may be taken by the start
        port = _free_port()
        # Durability settings off: the cluster lives for one test session and is thrown away.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        result = subprocess.run(
            _as_postgres_user(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(home / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return port
        last = result.stdout + result.stderr
        with suppress(OSError):
            last += (home / "server.log").read_text()
    raise RuntimeError(f"PostgreSQL did not start: {last.strip()[-2000:]}")


@contextmanager
def session_postgres() -> Iterator[Postgres]:
    """The tests' PostgreSQL, or a skip (a failure under CI) saying why there is none."""
    given = os.environ.get(TEST_POSTGRES_ENV, "").strip()
    if given:
        yield Postgres(given)
        return
    bin_dir = postgres_bin()
    if bin_dir is None:
        reason = (
            f"PostgreSQL is not installed (no initdb/pg_ctl) and {TEST_POSTGRES_ENV} is unset: "
            "install the postgresql package or point the variable at a server"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must test the lake)", pytrace=False)
        pytest.skip(reason)
    with throwaway_cluster(bin_dir) as server:
        yield server
