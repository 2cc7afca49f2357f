"""Argument helpers every command group shares."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path


def db_argument(parser: argparse.ArgumentParser) -> None:
    """`--db PATH`: the database this command touches (default: PIPELINE_DB)."""
    parser.add_argument(
        "--db", type=Path, metavar="PATH", help="the database (default: PIPELINE_DB)"
    )


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant for argparse; UTC when it carries no offset."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def first_line(exc: BaseException) -> str:
    """An exception as one line (DuckDB's errors span several, with a caret diagram)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
