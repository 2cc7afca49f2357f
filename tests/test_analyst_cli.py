"""The analyst's CLI on the simulator's demo book: `pipeline sql` and the named queries."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.simulator import SEED_EXAMPLE_INSTANT

LAST_SLOT = SEED_EXAMPLE_INSTANT.isoformat()


def query_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    assert main([*argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def db(demo_db_template: Path) -> str:
    return str(demo_db_template)


@pytest.mark.slow
def test_sql_answers_read_only_and_refuses_writes_in_one_line(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = query_json(capsys, "sql", "select count(*) as n from latest_balances", "--db", db)
    assert rows[0]["n"] > 0
    assert main(["sql", "delete from balance_snapshots", "--db", db]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "read-only" in err[0]
    assert main(["sql", "selec 1", "--db", db]) == 2
    assert "syntax error" in capsys.readouterr().err


def test_every_named_query_returns_rows_on_the_demo(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = {
        "latest_balances": [],
        "daily_balances": ["--param", "since=2026-10-31"],
        "coverage": [],
        "fetch_health": [],
        "client_statement": ["--param", "client_number=500613"],
        "house_balance_as_of": ["--param", f"as_of={LAST_SLOT}"],
    }
    for name, params in calls.items():
        rows = query_json(capsys, "query", name, *params, "--db", db)
        assert rows, name


def test_a_client_statement_reconciles_opening_changes_and_closing_exactly(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = query_json(capsys, "query", "client_statement", "--param", "client_number=500613",
                      "--db", db)  # fmt: skip
    running: dict[str, Decimal] = defaultdict(Decimal)
    closing: dict[str, Decimal] = {}
    for row in rows:
        if row["event"] == "opening":
            running[row["currency"]] = Decimal(row["balance"])
        elif row["event"] == "change":
            running[row["currency"]] += Decimal(row["change"])
        elif row["event"] == "closing":
            closing[row["currency"]] = Decimal(row["balance"])
    assert closing and {c: running[c] for c in closing} == closing
    assert any(row["event"] == "change" for row in rows)


def test_the_house_as_of_the_last_slot_is_the_sum_of_the_latest_balances(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    house = query_json(capsys, "query", "house_balance_as_of", "--param", f"as_of={LAST_SLOT}",
                       "--db", db)  # fmt: skip
    latest = query_json(capsys, "query", "latest_balances", "--db", db)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for row in latest:
        expected[row["currency"]] += Decimal(row["balance"])
    assert {r["currency"]: Decimal(r["total_balance"]) for r in house} == dict(expected)


def test_every_command_lists_its_options_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["run"], ["demo"], ["query"], ["sql"], ["report"], ["replay"],
                    ["raw", "export"], ["raw", "import"]):  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0
        assert "--db" in capsys.readouterr().out, command
