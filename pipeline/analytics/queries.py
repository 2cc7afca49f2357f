"""Analyst queries: `sql/queries/NAME.sql` files with `$param` placeholders described in headers.

A query file starts with comment lines: free text (the description) and one line per parameter,
`-- param: NAME TYPE [= DEFAULT]  description`. Values arrive as text (CLI, notebooks) and are
converted to the declared type before they are bound; they are never pasted into the SQL.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl

from pipeline.store.sqlfiles import load_sql, sql_names
from pipeline.store.store import query_frame

_PARAM = re.compile(r"^--\s*param:\s*(\w+)\s+(\w+)(?:\s*=\s*(\S+))?\s*(.*)$")


class QueryError(ValueError):
    """A query name or parameter is wrong; the message says which and what is expected."""


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    default: str | None
    description: str

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    params: tuple[QueryParam, ...]
    sql: str


def parse_query(name: str, sql: str) -> Query:
    """Read the header comments of one query file."""
    description: list[str] = []
    params: list[QueryParam] = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        match = _PARAM.match(line)
        if match:
            pname, ptype, default, text = match.groups()
            params.append(QueryParam(pname, ptype.upper(), default, text.strip()))
        else:
            description.append(line.removeprefix("--").strip())
    return Query(name, " ".join(d for d in description if d), tuple(params), sql)


def list_queries() -> list[Query]:
    return [load_query(name.split("/")[1]) for name in sql_names("queries")]


def load_query(name: str) -> Query:
    if not re.fullmatch(r"\w+", name):
        raise QueryError(f"bad query name {name!r}: use letters, digits and underscores")
    try:
        return parse_query(name, load_sql(f"queries/{name}"))
    except FileNotFoundError:
        known = ", ".join(name.split("/")[1] for name in sql_names("queries"))
        raise QueryError(f"no query named {name!r}; known queries: {known}") from None


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _count(text: str) -> int:
    # Integer parameters are client numbers and row limits: never negative.
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(text)


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "BOOLEAN": _boolean,
    "BIGINT": _count,
    "INTEGER": _count,
    "DOUBLE": _finite,
    "DECIMAL": Decimal,
    "VARCHAR": str,
    "DATE": date.fromisoformat,
    "TIMESTAMPTZ": _instant,
}


def bind(query: Query, values: dict[str, str]) -> dict[str, Any]:
    """Convert text values to the declared types; apply defaults; refuse unknown or missing."""
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise QueryError(
            f"query {query.name} has no parameter {', '.join(unknown)}; "
            f"it takes: {', '.join(declared) or 'none'}"
        )
    bound: dict[str, Any] = {}
    for param in query.params:
        text = values.get(param.name, param.default)
        if text is None:
            raise QueryError(
                f"query {query.name} needs --param {param.name}=<{param.type}> "
                f"({param.description})"
            )
        try:
            bound[param.name] = _CONVERTERS.get(param.type, str)(text)
        except ValueError:
            raise QueryError(
                f"--param {param.name}={text!r} is not a valid {param.type}"
                f"{' (a non-negative integer)' if _CONVERTERS.get(param.type) is _count else ''}"
                f" ({param.description})"
            ) from None
    return bound


def run_query(
    con: duckdb.DuckDBPyConnection, name: str, values: dict[str, str] | None = None
) -> pl.DataFrame:
    """Run a named query with text parameter values; return the result as a polars frame."""
    return run_bound(con, name, bind(load_query(name), values or {}))


def run_bound(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pl.DataFrame:
    """Run a named query with values already bound (see `bind`)."""
    return query_frame(con, load_query(name).sql, params)
