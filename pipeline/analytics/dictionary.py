"""The data dictionary (`docs/data_contract.md`), generated from the schema itself.

Types come from DuckDB: the DDL and the views are created in an in-memory database and each
table and view is DESCRIBEd. Meanings come from the SQL files: the comment above each
`create table` and after each column in `sql/ddl`, and each view's header comment in
`sql/views`. So the dictionary cannot say what the schema does not, and a test pins it.

    uv run python -m pipeline.analytics.dictionary            # rewrite docs/data_contract.md
    uv run python -m pipeline.analytics.dictionary --check    # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.store.database import apply_ddl, configure
from pipeline.store.sqlfiles import load_sql, sql_names

DEFAULT_OUT = Path("docs/data_contract.md")
_CREATE_TABLE = re.compile(r"^create table if not exists (\w+)\s*\(", re.IGNORECASE)
_CREATE_VIEW = re.compile(r"^create or replace view (\w+)", re.IGNORECASE)
# A column line with a trailing comment: `    name  type ...,  -- meaning` (the `--` after a space,
# so a default such as 'utf-8' is not taken for one).
_COLUMN = re.compile(r"^\s+(\w+)\s+.*?\s--\s?(.+)$")
_KEY = "key: "


@dataclass
class Relation:
    name: str
    kind: str  # "table" or "view"
    comment: list[str]  # the comment lines above its create statement, without "-- "
    column_comments: dict[str, str]
    source: str  # the SQL file, e.g. sql/ddl/001_tables.sql
    key: str | None = None  # a `-- key: a, b` line: the columns its writers keep unique


def _comment_text(line: str) -> str:
    return line.strip()[2:].removeprefix(" ")


def parse_sql(name: str) -> list[Relation]:
    """The tables or views one SQL file creates, with the comments that document them."""
    relations: list[Relation] = []
    pending: list[str] = []  # the comment block directly above the current line
    key: str | None = None  # its `-- key:` line
    current: Relation | None = None
    for line in load_sql(name).splitlines():
        stripped = line.strip()
        if current is not None and current.kind == "table":
            if stripped.startswith(")"):
                current = None
            elif match := _COLUMN.match(line):
                current.column_comments[match.group(1)] = match.group(2).strip()
            continue
        if stripped.startswith("--"):
            text = _comment_text(line)
            if text.startswith(_KEY):
                key = text.removeprefix(_KEY).strip()
            else:
                pending.append(text)
            continue
        if match := _CREATE_TABLE.match(stripped):
            current = Relation(match.group(1), "table", pending, {}, f"sql/{name}.sql", key)
            relations.append(current)
        elif match := _CREATE_VIEW.match(stripped):
            relations.append(Relation(match.group(1), "view", pending, {}, f"sql/{name}.sql"))
        pending, key = [], None  # a blank or code line ends a comment block
    return relations


def _paragraphs(lines: list[str], name: str) -> str:
    """Comment lines as markdown: lines joined into paragraphs, indented lines as a list."""
    out: list[str] = []
    for index, line in enumerate(lines):
        text = line.removeprefix(f"{name}: ") if index == 0 else line
        text = text[:1].upper() + text[1:] if index == 0 else text
        if line.startswith("  "):
            out.append(f"\n- {text.strip()}")
        elif out and not out[-1].startswith("\n- "):
            out[-1] += f" {text}"
        else:
            out.append(f"\n{text}" if out else text)
    return "".join(out).strip()


def _grain(con: duckdb.DuckDBPyConnection, relation: Relation) -> str:
    keys = con.execute(
        "select constraint_column_names from duckdb_constraints() "
        "where table_name = ? and constraint_type = 'PRIMARY KEY'",
        [relation.name],
    ).fetchall()
    if keys:
        return f"One row per ({', '.join(keys[0][0])}): the primary key."
    if relation.key:
        return f"One row per ({relation.key}): a key its writers keep unique (no index)."
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


_INTERNAL_DDL = "004_derived.sql"


def render(con: duckdb.DuckDBPyConnection | None = None) -> str:
    """The whole dictionary as markdown."""
    if con is None:
        con = duckdb.connect()
        configure(con)
        apply_ddl(con)
    every_table = [r for name in sql_names("ddl") for r in parse_sql(name)]
    # The derived tables are the views' machinery (rewritten by refreshes), not the contract.
    internal = [r for r in every_table if r.source.endswith(_INTERNAL_DDL)]
    tables = [r for r in every_table if r not in internal]
    views = [r for name in sql_names("views") for r in parse_sql(name)]
    meaning = {c: m for t in tables for c, m in t.column_comments.items()}
    owner = {c: t.name for t in tables for c in t.column_comments}
    lines = [
        "# Data contract",
        "",
        "<!-- Generated by `uv run python -m pipeline.analytics.dictionary` from sql/ddl and "
        "sql/views; do not edit by hand (tests/test_data_contract.py fails when it differs). -->",
        "",
        "What the DuckDB file holds, for the analysts who depend on these names. Tables are "
        "append-only; types are DuckDB's (`TIMESTAMP WITH TIME ZONE` columns are instants, "
        "shown in UTC; money is `DECIMAL`, only rates are `DOUBLE`). Each view's description is "
        "its header comment: its grain and its semantics.",
        "",
        "## Tables",
        "",
        " · ".join(f"[`{t.name}`](#{t.name})" for t in tables),
        "",
    ]
    for table in tables:
        # Names come from our own SQL files (matched as \w+): identifiers cannot be bound.
        columns = con.execute(f'describe "{table.name}"').fetchall()
        lines += [f"### {table.name}", "", f"*{table.source}*", ""]
        description = _paragraphs(table.comment, table.name)
        lines += [description, ""] if description else []
        grain = _grain(con, table)
        lines += [f"**Grain:** {grain[:1].lower()}{grain[1:]}", ""] if grain else []
        lines += ["| column | type | null | meaning |", "|---|---|---|---|"]
        for name, kind, null, *_ in columns:
            nullable = "" if null == "YES" else "not null"
            comment = _cell(table.column_comments.get(name, ""))
            lines.append(f"| `{name}` | `{kind}` | {nullable} | {comment} |")
        lines.append("")
    lines += [
        "## Views",
        "",
        "Defined in `sql/views/`, applied on every writing connection (readers define them "
        "as temporary views). A column that a table also has means what it means there, "
        "as noted.",
        "",
        " · ".join(f"[`{v.name}`](#{v.name})" for v in views),
        "",
    ]
    for view in views:
        columns = con.execute(f'describe "{view.name}"').fetchall()
        lines += [f"### {view.name}", "", f"*{view.source}*", ""]
        lines += [_paragraphs(view.comment, view.name), ""]
        lines += ["| column | type | meaning |", "|---|---|---|"]
        for name, kind, *_ in columns:
            note = f"{meaning[name]} (as in `{owner[name]}`)" if name in meaning else ""
            lines.append(f"| `{name}` | `{kind}` | {_cell(note)} |")
        lines.append("")
    lines += [
        "## Internal tables",
        "",
        f"Defined in `sql/ddl/{_INTERNAL_DDL}`: facts the views need from neighbouring "
        "observations, computed when snapshots are written (`pipeline/store/derived.py`), and "
        "the periods maintenance compacted. Not part of the contract: their layout changes "
        "with the views'; query the views.",
        "",
        " · ".join(f"`{t.name}`" for t in internal),
        "",
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the data dictionary from the schema.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: %(default)s")
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'up to date' if current else 'out of date; regenerate it'}")
        return 0 if current else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
