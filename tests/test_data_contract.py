"""docs/data_contract.md is generated from the schema and cannot drift from it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.analytics.dictionary import main, parse_sql, render
from pipeline.store.database import apply_ddl, configure
from pipeline.store.derived import DERIVED_TABLES

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "data_contract.md"


def _schema() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    configure(con)
    apply_ddl(con)
    return con


INTERNAL = {*DERIVED_TABLES, "maintenance_compactions"}


def test_the_committed_dictionary_is_what_the_generator_writes() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "docs/data_contract.md is out of date: run `uv run python -m pipeline.analytics.dictionary`"
    )


def test_every_table_view_and_column_is_in_the_dictionary() -> None:
    con = _schema()
    text = render(con)
    relations = con.execute(
        "select table_name from duckdb_tables() union all select view_name from duckdb_views() "
        "where not internal and schema_name = 'main'"
    ).fetchall()
    assert len(relations) > 20
    for (name,) in relations:
        if name in INTERNAL:  # the views' machinery: named, not documented column by column
            assert f"`{name}`" in text.split("## Internal tables")[1], name
            continue
        assert f"\n### {name}\n" in text, name
        for column, kind, *_ in con.execute(f'describe "{name}"').fetchall():
            assert f"| `{column}` | `{kind}` |" in text, (name, column)


def test_types_come_from_the_database_and_meanings_from_the_sql_comments() -> None:
    con = _schema()
    con.execute("alter table client_sightings add column region varchar")
    text = render(con)
    assert "| `region` | `VARCHAR` |" in text  # DESCRIBE, not a copy of the DDL text
    assert "| `balance` | `DECIMAL(38,8)` | not null | quantity held (Balance), exact |" in text
    assert "**Grain:** one row per (run_id, slot_start, client_number, attempt)" in text
    lines = next(r for r in parse_sql("ddl/001_tables") if r.name == "balance_lines")
    assert lines.column_comments["implied_rate"] == "value_base / balance; NULL when balance is 0"
    # A view's description is its header comment, without the leading "name: ".
    assert "### house_totals\n\n*sql/views/10_house_totals.sql*\n\nPer slot, currency" in text


def test_check_mode_fails_on_a_stale_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "data_contract.md"
    assert main(["--out", str(out)]) == 0
    assert main(["--out", str(out), "--check"]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("quantity held", "amount"))
    assert main(["--out", str(out), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
