"""The import rules of docs/architecture.md, read from the source (ast), not from imports.

Every module under ``src/vein2vein`` is parsed; each import (lazy and ``TYPE_CHECKING``
ones included) is resolved to the module it names. The rules:

(a) no module imports another top-level package's private module (a path part that
    starts with ``_``) or private name: what another package needs is public there;
(b) the top-level packages import each other without a cycle;
(c) arrows point inward: each package imports only the layers :data:`MAY_IMPORT` allows
    its own layer (shells over tools over domain packages over the base);
(d) only the packages of :data:`OPENS_SESSIONS` open a database session or unit of work;
    every other package receives one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "vein2vein"

#: Every top-level package (or root module) and its layer. A new package needs a line.
LAYER_OF: dict[str, str] = {
    # shells: translate requests into domain calls; they open the units of work
    "cli": "shell",
    "demo": "shell",
    "api": "shell",
    "web": "shell",
    # tools: synthetic generators and test helpers, built on the domain
    "simulate": "tools",
    "testing": "tools",
    # domain packages: compute on plain data, receive a session or unit of work
    "intake": "domain",
    "release": "domain",
    "process": "domain",
    "comparability": "domain",
    "clinical": "domain",
    "invivo": "domain",
    "singlecell": "domain",
    "potency": "domain",
    "sterility": "domain",
    "environment": "domain",
    "schedule": "domain",
    "network": "domain",
    # the base every domain package stands on
    "records": "base",
    "specs": "base",
    "identity": "base",
    "support": "base",
    # the root package: version, settings, the error tree, logging
    "": "root",
    "_settings": "root",
    "errors": "root",
    "logging": "root",
}

#: Which layers each layer may import (its own included: then (b) rules out cycles).
MAY_IMPORT: dict[str, frozenset[str]] = {
    "shell": frozenset({"tools", "domain", "base", "root"}),
    "tools": frozenset({"tools", "domain", "base", "root"}),
    "domain": frozenset({"domain", "base", "root"}),
    "base": frozenset({"base", "root"}),
    "root": frozenset({"root"}),
}

#: Shells that use another shell: the CLI's ``demo`` command runs the demo application.
SHELL_USES_SHELL: frozenset[tuple[str, str]] = frozenset({("cli", "demo")})

#: The root package's private settings module is the service configuration that
#: ``records`` and the shells read; it is the one private module others may import.
SHARED_PRIVATE: frozenset[str] = frozenset({"vein2vein._settings"})

#: The packages that may open a database session or unit of work (``Database(...)``,
#: ``db.read()``, ``db.unit_of_work(...)``): the shells; ``records``, which owns them
#: (a failed login and key rotation commit on their own); ``testing``, which builds
#: fixtures. Every other package receives a session or unit of work.
OPENS_SESSIONS: frozenset[str] = frozenset({"cli", "demo", "api", "web", "records", "testing"})


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved."""

    module: str  # the importing module, e.g. vein2vein.cli._demo
    target: str  # the imported module, e.g. vein2vein.records._types
    name: str | None  # the name imported from it, if any
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for p in sorted(SRC.rglob("*.py"))
        if "migrations" not in p.relative_to(SRC).parts
    }


def _existing(name: str) -> str:
    """The longest prefix of ``name`` that is a module (the rest is an attribute)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in _modules():
        parts.pop()
    return ".".join(parts)


def _imports(module: str, path: Path) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "vein2vein":
                    yield Import(module, _existing(alias.name), None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "vein2vein":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in _modules():
                    yield Import(module, submodule, None, node.lineno)
                else:
                    yield Import(module, _existing(source), alias.name, node.lineno)


def _all_imports() -> list[Import]:
    return [i for m, p in _modules().items() for i in _imports(m, p)]


def _package(module: str) -> str:
    """The top-level package of a module: ``records`` for ``vein2vein.records._types``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _violates_privacy(imp: Import) -> bool:
    if _package(imp.module) == _package(imp.target) or imp.target in SHARED_PRIVATE:
        return False
    if any(_is_private(p) for p in imp.target.split(".")[1:]):
        return True
    return imp.name is not None and _is_private(imp.name)


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {_package(m): set() for m in _modules()}
    for imp in _all_imports():
        source, target = _package(imp.module), _package(imp.target)
        if source != target:
            graph[source].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _opens_sessions(path: Path) -> list[int]:
    """Lines that construct a Database or open a read session or unit of work."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            (isinstance(func, ast.Name) and func.id == "Database")
            or (isinstance(func, ast.Attribute) and func.attr == "unit_of_work")
            or (
                isinstance(func, ast.Attribute)
                and func.attr == "read"
                and not node.args
                and not node.keywords
                and isinstance(func.value, ast.Name | ast.Attribute | ast.Call)
                and _names_a_database(func.value)
            )
        ):
            lines.append(node.lineno)
    return lines


def _names_a_database(node: ast.expr) -> bool:
    """``db.read()``, ``self._db.read()``, ``database().read()``: a database's read."""
    if isinstance(node, ast.Call):
        node = node.func
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return "db" in name.lower() or "database" in name.lower()


def test_every_package_has_a_layer() -> None:
    missing = sorted({_package(m) for m in _modules()} - set(LAYER_OF))
    assert not missing, f"give these packages a layer in LAYER_OF: {missing}"


def test_no_package_imports_another_packages_private_modules() -> None:
    found = [
        f"{i.module}:{i.line} imports {i.target}" + (f".{i.name}" if i.name else "")
        for i in _all_imports()
        if _violates_privacy(i)
    ]
    assert not found, "make these public in their package:\n" + "\n".join(found)


def test_packages_import_each_other_without_cycles() -> None:
    assert _cycles(_package_graph()) == []


def test_arrows_point_inward() -> None:
    wrong = []
    for imp in _all_imports():
        source, target = _package(imp.module), _package(imp.target)
        if source == target or source not in LAYER_OF or target not in LAYER_OF:
            continue
        mine, theirs = LAYER_OF[source], LAYER_OF[target]
        allowed = theirs in MAY_IMPORT[mine] or (source, target) in SHELL_USES_SHELL
        if not allowed:
            wrong.append(f"{imp.module}:{imp.line} ({mine}) imports {imp.target} ({theirs})")
    assert not wrong, "\n".join(wrong)


def test_only_shells_records_and_tools_open_database_sessions() -> None:
    found = [
        f"{module}:{line}"
        for module, path in _modules().items()
        if _package(module) not in OPENS_SESSIONS
        for line in _opens_sessions(path)
    ]
    assert not found, "receive a session or unit of work instead:\n" + "\n".join(found)


# The checks themselves, on made-up imports: each rule can fail.


def test_a_private_cross_import_is_found() -> None:
    private = Import("vein2vein.clinical._records", "vein2vein.records._types", None, 1)
    name = Import("vein2vein.cli._demo", "vein2vein.simulate", "_helper", 1)
    own = Import("vein2vein.records.audit", "vein2vein.records._types", None, 1)
    public = Import("vein2vein.cli._demo", "vein2vein.records", "utcnow", 1)
    settings = Import("vein2vein.records.keys", "vein2vein._settings", None, 1)
    assert _violates_privacy(private) and _violates_privacy(name)
    assert not any(_violates_privacy(i) for i in (own, public, settings))


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    ("source", "opens"),
    [
        ("with db.read() as session:\n    pass\n", True),
        ("with self._db.unit_of_work(actor) as uow:\n    pass\n", True),
        ("db = Database(url)\n", True),
        ("text = handle.read()\n", False),
        ("frame = pd.read_csv(path)\n", False),
    ],
)
def test_opening_a_session_is_found(tmp_path: Path, source: str, *, opens: bool) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert bool(_opens_sessions(path)) is opens


def test_the_resolver_reads_relative_and_lazy_imports() -> None:
    imports = list(_imports("vein2vein.cli._demo", SRC / "cli" / "_demo.py"))
    targets = {(i.target, i.name) for i in imports}
    assert ("vein2vein.demo", "run_demo") in targets  # a lazy import inside the command
    assert ("vein2vein.cli._common", "STATE") in targets  # a relative import
