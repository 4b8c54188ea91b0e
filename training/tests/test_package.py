"""The package as installed: what pyproject declares, and the tools run as modules from training/."""
import ast
import os
import subprocess
import sys

import onnx
import pytest

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Import names of the declared distributions (pillow is imported as PIL).
IMPORT_NAMES = {"pillow": "PIL"}


def _python_files(folder):
    for root, _dirs, files in os.walk(os.path.join(TRAINING, folder)):
        yield from (os.path.join(root, f) for f in files if f.endswith(".py"))


def _top_level_imports(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def test_every_third_party_import_of_the_library_is_a_declared_dependency():
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(TRAINING, "pyproject.toml"), "rb") as f:
        declared = tomllib.load(f)["project"]["dependencies"]
    provided = {IMPORT_NAMES.get(name, name) for name in declared}
    imported = {name for path in _python_files("dmlnet") for name in _top_level_imports(path)}
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "dmlnet"}
    assert third_party - provided == set(), "imported by dmlnet/ but not declared in pyproject.toml"


def test_no_file_edits_the_import_path():
    edits = [path for folder in ("dmlnet", "tools", "probes", "tests") for path in _python_files(folder)
             if "sys.path" in open(path).read() and not path.endswith("test_package.py")]
    assert edits == [], "import through the package (python3 -m ...), not by editing sys.path"


def test_a_tool_runs_as_a_module_from_training(tmp_path):
    out = str(tmp_path / "head.onnx")
    subprocess.run([sys.executable, "-m", "tools.head_graph", out, "4", "10", "3", "20", "0.8"], cwd=TRAINING,
                   check=True)
    graph = onnx.load(out).graph
    assert [i.name for i in graph.input] == ["embedding", "prototypes"]
    assert [o.name for o in graph.output] == ["score", "nearest"]
