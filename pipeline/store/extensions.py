"""DuckDB extensions for the lake, loaded offline from the installed wheels.

DuckDB's extension server is unreachable here, and an extension loads only into the exact
DuckDB version it was built for. The package index carries the extensions as wheels
(`duckdb-extension-ducklake`, `-postgres`, `-httpfs`, pinned to DuckDB's version in
pyproject.toml); each holds one `<name>.duckdb_extension` file. `INSTALL '<that file>'` copies it
into the connection's extension directory, after which `LOAD <name>` works by name. (A direct
`LOAD '<file>'` fails for postgres: its file name differs from its entry point,
`postgres_scanner`.) Autoinstall stays off so nothing ever tries the network.
"""

from __future__ import annotations

import tempfile
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock

# The extensions a DuckLake on PostgreSQL needs; httpfs adds s3:// data paths.
LAKE_EXTENSIONS = ("ducklake", "postgres")
OBJECT_STORE_EXTENSIONS = ("httpfs", "aws")  # aws: the credential chain for S3 secrets
_CACHE_PARTS = (".cache", "hyper-balance-history", "duckdb-extensions")


class ExtensionMissing(RuntimeError):
    """An extension wheel is absent or built for another DuckDB version."""


def wheel_package(name: str) -> str:
    """The distribution that carries extension `name`, e.g. `duckdb-extension-ducklake`."""
    return f"duckdb-extension-{name}"


def extension_file(name: str) -> Path:
    """The `.duckdb_extension` file inside the installed wheel, for this DuckDB version.

    Raises:
        ExtensionMissing: the wheel is not installed, or carries another version's build.
    """
    package = wheel_package(name)
    try:
        wheel_version = version(package)
    except PackageNotFoundError:
        raise ExtensionMissing(
            f"the DuckDB extension {name!r} is not installed: add {package}=={duckdb.__version__} "
            "(uv sync installs it from the lock)"
        ) from None
    # The wheel lays the file out as DuckDB's own extension tree does: extensions/v<version>/.
    path = files(package.replace("-", "_")).joinpath(
        "extensions", f"v{duckdb.__version__}", f"{name}.duckdb_extension"
    )
    if not path.is_file():
        raise ExtensionMissing(
            f"{package} {wheel_version} has no build for DuckDB {duckdb.__version__}; pin both "
            "to the same version"
        )
    return Path(str(path))


def default_extension_directory() -> Path:
    """A writable folder per user for installed extensions (~/.cache/..., else the temp dir).

    Not DuckDB's default (~/.duckdb): a service account's home may be read-only, and keeping
    ours apart never mixes them with a user's own DuckDB installs.
    """
    for base in (Path.home(), Path(tempfile.gettempdir())):
        folder = base.joinpath(*_CACHE_PARTS)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        return folder
    raise ExtensionMissing("no writable folder for DuckDB extensions (home and temp are not)")


def offline_config(extension_directory: Path | None = None) -> dict[str, Any]:
    """`duckdb.connect(config=...)` for a connection that loads extensions only from wheels."""
    folder = extension_directory or default_extension_directory()
    return {
        "extension_directory": str(folder),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }


def load_extensions(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Install (once per extension directory) and load `names` into `con`, offline.

    The install runs under a file lock: shard processes starting at once into a fresh directory
    would otherwise copy the same 100 MB of files over each other while another loads them.
    INSTALL of an already installed extension is a no-op (≈ 10 ms).
    """
    row = con.execute("select current_setting('extension_directory')").fetchone()
    assert row is not None  # a setting always has a value
    folder = Path(row[0])
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".install.lock")):
        for name in names:
            con.execute(f"install '{_quoted(extension_file(name))}'")
    for name in names:
        con.execute(f"load {name}")


def _quoted(path: Path) -> str:
    # A path is an identifier we build, not a value DuckDB can bind; double any quote in it.
    return str(path).replace("'", "''")
