"""The engine never imports streamlit (DESIGN rule 2), checked statically and at run time."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nnbuilder"


def test_no_module_in_nnbuilder_imports_streamlit():
    offenders = []
    for file in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(str(file.relative_to(PACKAGE.parent)))
    assert offenders == []


def test_importing_every_module_leaves_streamlit_unloaded():
    modules = sorted("nnbuilder." + ".".join(f.relative_to(PACKAGE).with_suffix("").parts)
                     for f in PACKAGE.rglob("*.py") if f.name not in ("__init__.py", "__main__.py"))
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# ---- layering (DESIGN: "a lower package never imports a higher one"), circles and private names ----------------

# Packages from low to high; a tuple is one level, whose packages may not import each other either.
LAYER_ORDER = [("errors",), ("layers",), ("spec",), ("data",), ("model",), ("train",), ("evaluate", "views"),
               ("tasks",), ("bundle", "teach"), ("export", "serve", "runs"), ("cli",)]
LEVEL = {package: level for level, packages in enumerate(LAYER_ORDER) for package in packages}
OUTSIDE_ORDER = {"nnbuilder", "__main__"}  # the package face and the entry point may import anything


def _module_name(file: Path) -> str:
    parts = file.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(f): f for f in sorted(PACKAGE.rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module an ImportFrom names, relative levels resolved against the importing module's package."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _owner(name: str) -> str | None:
    """The nnbuilder module `name` lives in (itself, or the nearest enclosing module that exists)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _docstrings(tree: ast.Module) -> set[int]:
    bodies = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return {id(b.body[0].value) for b in bodies
            if b.body and isinstance(b.body[0], ast.Expr) and isinstance(b.body[0].value, ast.Constant)}


def imports_of(module: str, source: str | None = None) -> list[tuple[str, str, str]]:
    """(imported module, private name or '', how it reads) for every nnbuilder import in `module` (its file, or
    `source`): module-level and function-level, absolute and relative, `import_module("nnbuilder...")` and module
    paths kept as strings (a list of module names to import later is an import all the same)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8") if source is None else source)
    docstrings, found = _docstrings(tree), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, "", f"import {a.name}") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:  # `from package import module`: the module is what is imported
                    found.append((submodule, "", f"import {submodule}"))
                else:
                    private = alias.name if alias.name.startswith("_") and not alias.name.endswith("__") else ""
                    found.append((source, private, f"from {source} import {alias.name}"))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and node.value.startswith("nnbuilder.") and node.value in MODULES):
            found.append((node.value, "", f"'{node.value}' (a module named in a string)"))
    return [(_owner(target), private, text) for target, private, text in found
            if target.split(".")[0] == "nnbuilder" and _owner(target) and _owner(target) != module]


def _package(module: str) -> str:
    """'data' for nnbuilder.data.io, 'errors' for nnbuilder.errors, 'nnbuilder' for the package's own __init__."""
    return module.split(".")[1] if module.count(".") else module


def _path(module: str) -> str:
    return str(MODULES[module].relative_to(PACKAGE.parent))


def layering_violations() -> list[str]:
    problems = []
    for module in MODULES:
        low = _package(module)
        if low in OUTSIDE_ORDER:
            continue
        for target, _, text in imports_of(module):
            high = _package(target)
            if high == low or high == "nnbuilder":  # `from nnbuilder import __version__` is the package face
                continue
            if LEVEL[high] > LEVEL[low]:
                problems.append(f"{_path(module)} {text}: {low} is below {high}")
            elif LEVEL[high] == LEVEL[low]:
                problems.append(f"{_path(module)} {text}: {low} and {high} are one level and may not import each other")
    return problems


def import_circles() -> list[str]:
    """Each strongly connected group of modules (Tarjan) that import each other, however indirectly."""
    graph = {m: sorted({t for t, _, _ in imports_of(m)}) for m in MODULES}
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(" <-> ".join(sorted(group)))

    for module in graph:
        if module not in index:
            visit(module)
    return circles


def private_imports() -> list[str]:
    return [f"{_path(module)} {text}: '{private}' is private to {target}"
            for module in MODULES for target, private, text in imports_of(module) if private]


def test_import_reader_sees_every_kind_of_import():
    """The checks below are only as good as this reader: it must see relative, lazy and string imports."""
    source = ("from .registry import LAYERS\nfrom . import conv\nimport nnbuilder.spec.layers as spec_layers\n\n"
              "def f():\n    from ..errors import _x\n    return import_module('nnbuilder.cli.main')\n\n"
              "LATER = ['nnbuilder.views.boundary']\n")
    assert sorted(imports_of("nnbuilder.layers.core", source)) == sorted([
        ("nnbuilder.layers.registry", "", "from nnbuilder.layers.registry import LAYERS"),
        ("nnbuilder.layers.conv", "", "import nnbuilder.layers.conv"),
        ("nnbuilder.spec.layers", "", "import nnbuilder.spec.layers"),
        ("nnbuilder.errors", "_x", "from nnbuilder.errors import _x"),
        ("nnbuilder.cli.main", "", "'nnbuilder.cli.main' (a module named in a string)"),
        ("nnbuilder.views.boundary", "", "'nnbuilder.views.boundary' (a module named in a string)")])


def test_every_package_has_a_place_in_the_layer_order():
    assert {_package(m) for m in MODULES} - OUTSIDE_ORDER - set(LEVEL) == set()


def test_no_lower_package_imports_a_higher_one():
    problems = layering_violations()
    assert not problems, "\n".join(problems)


def test_no_import_circles():
    circles = import_circles()
    assert not circles, "\n".join(circles)


def test_no_module_imports_another_modules_private_names():
    problems = private_imports()
    assert not problems, "\n".join(problems)
