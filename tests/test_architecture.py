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
