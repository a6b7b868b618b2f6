"""The public surface of `mock_server`: exactly the documented names, and every private module
declares its own (`tests/test_architecture.py` and `lint-imports` check the import graph)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import mock_server
import mock_server.store

PUBLIC_NAMES = {
    "ApiKey",
    "ConfigError",
    "CronSpec",
    "Dialect",
    "Duration",
    "MockApp",
    "MockConfig",
    "MockSettings",
    "OutcomeRates",
    "TriggerConfig",
    "TriggerStore",
    "VirtualClock",
    "WorkspaceConfig",
    "base_url",
    "bind_socket",
    "create_app",
    "demo_config",
    "load_config",
    "make_server",
    "parse_config",
    "parse_dialect",
    "serve_in_thread",
}
PRIVATE_MODULES = sorted(
    module.name
    for package in (mock_server, mock_server.store)
    for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}.")
    if module.name.rsplit(".", 1)[1].startswith("_") and module.name != "mock_server.__main__"
)


def test_all_lists_exactly_the_public_names_sorted() -> None:
    """`mock_server.__all__` equals the public names, sorted, and each one is documented."""
    assert set(mock_server.__all__) == PUBLIC_NAMES
    assert mock_server.__all__ == sorted(mock_server.__all__)
    for name in mock_server.__all__:
        assert getattr(mock_server, name).__doc__, name


def test_the_mock_config_error_is_the_one_config_loading_raises() -> None:
    """`mock_server.ConfigError` is what `parse_config` raises for a bad document."""
    with pytest.raises(mock_server.ConfigError, match="workspaces"):
        mock_server.parse_config({"workspaces": "none"})


@pytest.mark.parametrize("name", PRIVATE_MODULES)
def test_every_private_module_declares_its_names(name: str) -> None:
    """Each private module has an `__all__` naming only objects it defines or re-exports."""
    module = importlib.import_module(name)
    assert isinstance(module.__all__, list), name
    assert all(hasattr(module, item) for item in module.__all__), name


def test_store_package_only_re_exports() -> None:
    """`mock_server.store`'s `__init__` holds imports and `__all__` only, sorted."""
    tree = ast.parse(Path(mock_server.store.__file__).read_text())
    kinds = {type(node).__name__ for node in tree.body[1:]}  # after the docstring
    assert kinds <= {"ImportFrom", "Assign"}
    assert mock_server.store.__all__ == sorted(mock_server.store.__all__)
