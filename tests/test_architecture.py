"""The shape of the package: imports point one way and form no cycle."""

import ast
from pathlib import Path

import pytest

import globsml

PACKAGE = Path(globsml.__file__).parent

#: The layers, lowest first: a module may import its own layer and those
#: before it, never one after it (data -> features -> mock -> models ->
#: evaluation -> experiments -> explain / inference -> cli; adapt, the
#: adaptation to unlabelled targets, sits between the models and their uses). ``evaluation``
#: holds pure metric functions (it imports only the errors), so the neural
#: models' early stopping can use the one TPR/FDR there.
LAYERS = (
    ("globsml._errors", "globsml._io", "globsml._version", "globsml._checks", "globsml._paths", "globsml._cpus"),
    ("globsml.data",),
    ("globsml.preprocessing",),
    ("globsml.features",),
    ("globsml.mock",),
    ("globsml.evaluation",),
    ("globsml.models",),
    ("globsml.adapt",),
    ("globsml.experiments",),
    ("globsml.inference",),
    ("globsml.explain",),
    ("globsml.cli", "globsml.__main__", "globsml"),
)


def _modules():
    """{dotted name: (path, is_package)} of every module of the installed package."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def _imported(name, is_package, node, modules):
    """The globsml modules an import statement loads (function-level imports included)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    base = name.split(".") if is_package else name.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        # ``from pkg import submodule`` needs the submodule; ``from pkg import name``, the package.
        out.append(sub if sub in modules else target)
    return [m for m in out if m in modules]


def import_graph():
    """{module: set of globsml modules it imports}."""
    modules = _modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps.update(_imported(name, is_package, node, modules))
        deps.discard(name)
        graph[name] = deps
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _layer(module):
    for rank, members in enumerate(LAYERS):
        for top in members:
            if module == top or module.startswith(top + ".") and top != "globsml":
                return rank
    return len(LAYERS) - 1 if module == "globsml" else None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_relative_and_function_level_imports():
    graph = import_graph()
    assert "globsml.models._torch" in graph["globsml.models._cnn"]  # from . import _torch
    assert "globsml.data" in graph["globsml.experiments._data"]  # from ..data import ...
    assert "globsml.mock" in graph["globsml.experiments._data"]  # imported inside a function


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_layers_point_one_way():
    graph = import_graph()
    upward = []
    for module, deps in graph.items():
        rank = _layer(module)
        assert rank is not None, f"{module} is in no layer of LAYERS"
        upward += [f"{module} -> {dep}" for dep in sorted(deps) if _layer(dep) > rank]
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_package_init_is_a_table_of_contents(package):
    """Explicit imports and a literal ``__all__`` in every package ``__init__``."""
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8"))
    stars = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)]
    assert not stars, f"globsml.{package} re-exports with *: {stars}"
    assigned = [n for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in n.targets)]
    assert len(assigned) == 1, f"globsml.{package}: no single __all__"
    names = ast.literal_eval(assigned[0].value)  # fails unless a literal list of strings
    assert names and all(isinstance(n, str) for n in names)
    module = __import__(f"globsml.{package}", fromlist=["__all__"])
    assert list(module.__all__) == names and all(hasattr(module, n) for n in names)
