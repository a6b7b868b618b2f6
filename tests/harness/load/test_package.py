"""The load package's shape: what it exports, and what its modules may not import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import harness.load

PACKAGE = Path(harness.load.__file__).parent
FORBIDDEN = ("harness.cli", "locust", "gevent", "mock_server")


def _imports(path: Path) -> set[str]:
    """The absolute module names `path` imports (relative ones resolved in harness.load)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ["harness", "load"][: max(0, 2 - node.level + 1)] if node.level else []
            names.add(".".join([*base, *filter(None, [node.module])]))
    return names


def _forbidden(name: str) -> bool:
    """The package itself (a sibling `harness.load._x` is fine) or a forbidden module."""
    if name == "harness.load" or name.startswith("harness.load."):
        return not name.removeprefix("harness.load.").startswith("_")
    return any(name == bad or name.startswith(f"{bad}.") for bad in FORBIDDEN)


def test_every_exported_name_exists() -> None:
    """`harness.load.__all__` names only real objects, each once."""
    assert len(set(harness.load.__all__)) == len(harness.load.__all__)
    for name in harness.load.__all__:
        assert getattr(harness.load, name) is not None


def test_no_load_module_imports_its_package_the_cli_locust_or_the_mock() -> None:
    """Load modules import siblings only: never `harness.load`, the CLI, Locust or the mock."""
    for path in sorted(PACKAGE.glob("_*.py")):
        for name in _imports(path):
            assert not _forbidden(name), f"{path.name} imports {name}"


def test_importing_the_load_package_leaves_locust_and_the_mock_out() -> None:
    """A fresh `import harness.load` imports neither locust, gevent nor mock_server."""
    code = (
        "import sys, harness.load; "
        "print(sorted(m for m in ('locust', 'gevent', 'mock_server') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
