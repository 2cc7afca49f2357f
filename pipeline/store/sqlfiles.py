"""SQL shipped inside the package (`sql/`, read through importlib.resources).

Statements are files and values are bound. `sql/` stays at the top of the repository for people
to read; `pipeline/sql` is a link to it, so a checkout, an editable install and a built wheel
all read the same files the same way.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

SQL_ROOT: Traversable = files("pipeline") / "sql"


@cache
def load_sql(name: str) -> str:
    """Return the text of `sql/<name>.sql`, e.g. `load_sql("store/pending_raw")`."""
    path = SQL_ROOT.joinpath(*f"{name}.sql".split("/"))
    if not path.is_file():
        raise FileNotFoundError(f"SQL file sql/{name}.sql is not in the package")
    return path.read_text(encoding="utf-8")


def sql_names(folder: str) -> list[str]:
    """The names (`folder/stem`) of one folder's `.sql` files, in name order (DDL order)."""
    return sorted(
        f"{folder}/{entry.name[:-4]}"
        for entry in SQL_ROOT.joinpath(folder).iterdir()
        if entry.name.endswith(".sql")
    )
