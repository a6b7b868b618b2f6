"""The import graph: no cycle anywhere, no module importing its own package back.

`lint-imports` (run by `make test`) checks the layer contracts in pyproject.toml; these tests add
the two rules import-linter has no contract for, on the graph grimp builds for it (imports under
`TYPE_CHECKING` and inside functions count: a cycle there is still a cycle for a reader).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import grimp
import pytest

ROOT_PACKAGES = ("harness", "mock_server", "scenarios")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """The project's import graph (first-party modules only)."""
    return grimp.build_graph(*ROOT_PACKAGES, include_external_packages=False)


def _edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def strongly_connected(edges: Mapping[str, set[str]]) -> Iterator[list[str]]:
    """Tarjan's algorithm, iterative: each component of more than one module is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        yield sorted(component)


def test_tarjan_finds_a_planted_cycle() -> None:
    """The cycle finder reports a three-module cycle and nothing for a chain."""
    cyclic = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert list(strongly_connected(cyclic)) == [["a", "b", "c"]]
    assert list(strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()})) == []


def test_no_import_cycle_anywhere(graph: grimp.ImportGraph) -> None:
    """No set of modules imports itself round, directly or through others."""
    assert list(strongly_connected(_edges(graph))) == []


def test_no_module_imports_its_own_package(graph: grimp.ImportGraph) -> None:
    """A module never imports its own package's `__init__` (or an ancestor's) back."""
    offenders = [
        f"{module} -> {ancestor}"
        for module in sorted(graph.modules)
        for ancestor in (module.rsplit(".", depth)[0] for depth in range(1, module.count(".") + 1))
        if graph.direct_import_exists(importer=module, imported=ancestor)
    ]
    assert offenders == []
