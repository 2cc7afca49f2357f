"""Load SQL from the repository's `sql/` folder; statements are files, values are bound."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def load_sql(name: str) -> str:
    """Return the text of `sql/<name>.sql`, e.g. `load_sql("store/pending_raw")`."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {path} not found")
    return path.read_text(encoding="utf-8")


def sql_files(folder: str) -> list[Path]:
    """The `.sql` files of one folder of `sql/`, in name order (DDL is applied in this order)."""
    return sorted((SQL_DIR / folder).glob("*.sql"))
