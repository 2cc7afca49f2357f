"""The house rules that keep the layout readable, checked rather than hoped for."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pipeline"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _package_modules() -> list[Path]:
    # `pipeline/sql` and `pipeline/notebooks` link to the top-level folders: data, not code.
    data = {PACKAGE / "sql", PACKAGE / "notebooks"}
    return sorted(p for p in PACKAGE.rglob("*.py") if not any(p.is_relative_to(d) for d in data))


def _reads_environment(tree: ast.AST) -> list[int]:
    """Lines that touch os.environ / os.getenv / putenv / load_dotenv."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv"}:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module in {"os", "dotenv"}:
            names = {a.name for a in node.names}
            if names & {"environ", "getenv", "load_dotenv", "dotenv_values"}:
                lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id == "load_dotenv":
            lines.append(node.lineno)
    return lines


def test_only_settings_reads_the_environment() -> None:
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in _package_modules()
        if path.name != "settings.py" or path.parent != PACKAGE
        if (lines := _reads_environment(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}
    # The scan is not vacuous: settings.py itself is caught by it.
    assert _reads_environment(ast.parse((PACKAGE / "settings.py").read_text(encoding="utf-8")))


def test_at_most_three_modules_at_the_top_of_the_package() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "definitions.py", "settings.py"]


def _lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.skip("lint-imports is not installed (uv sync installs the dev group)")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(pythonpath)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layer_contract_holds() -> None:
    result = _lint_imports(ROOT, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_layer_contract_fails_on_an_upward_import(tmp_path: Path) -> None:
    """The contract has teeth: the store importing the CLI breaks it."""
    shutil.copytree(PACKAGE, tmp_path / "pipeline", symlinks=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    store = tmp_path / "pipeline" / "store" / "__init__.py"
    store.write_text(store.read_text() + "\nimport pipeline.cli  # an upward import\n")
    result = _lint_imports(tmp_path, tmp_path)
    assert result.returncode != 0
    assert "Layers: front end -> Dagster wiring -> steps -> domain -> settings BROKEN" in (
        result.stdout
    )
