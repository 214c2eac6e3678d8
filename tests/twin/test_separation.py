"""The twin's ground truth never reaches the product's estimators.

The plant twin (``energy.twin``) knows what really happened; histories, forecasts, planning,
savings, reports, the dashboard, tariffs and emissions must estimate it from meter data alone.
So no estimator module may import the twin, statically (any import form, anywhere in the module)
or at run time (importing the estimators must not load ``energy.twin``). The twin's own users are
exempt: ``energy/demo.py``, ``energy/metering/simulate.py`` and the CLI commands that run them,
which may import it inside their functions only.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import REPO

#: Modules whose import loads the twin: the twin itself and the demo, which imports it at module level.
TWIN_MODULES = ("energy.twin", "energy.demo")
EXEMPT = ("energy/twin/", "energy/demo.py", "energy/metering/simulate.py", "energy/cli/")
ESTIMATORS = (
    "energy.histories",
    "energy.forecasts",
    "energy.planning",
    "energy.planning.savings",
    "energy.reports",
    "energy.dashboard",
    "energy.tariffs",
    "energy.emissions",
)


def _names_twin(module: str | None) -> bool:
    return module is not None and any(module == m or module.startswith(m + ".") for m in TWIN_MODULES)


def _absolute(module: str | None, level: int, package: str) -> str | None:
    """The absolute name of ``from <level dots><module> import …`` inside ``package``."""
    if level == 0:
        return module
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    return ".".join(base + ([module] if module else []))


def twin_imports(source: str, module: str) -> list[tuple[int, bool]]:
    """Where ``source`` (the module named ``module``) imports the twin: ``(line, inside a function)``
    for every ``import energy.twin…``, ``from energy.twin… import``, ``from energy import twin``,
    relative forms of these and ``importlib.import_module("energy.twin…")``/``__import__`` calls."""
    is_package = module.endswith(".__init__")
    module = module.removesuffix(".__init__")
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            if any(_names_twin(alias.name) for alias in node.names):
                found.append((node.lineno, in_function))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package)
            if _names_twin(base) or any(_names_twin(f"{base}.{alias.name}" if base else alias.name) for alias in node.names):
                found.append((node.lineno, in_function))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in {"import_module", "__import__"} and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and _names_twin(first.value):
                    found.append((node.lineno, in_function))
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def python_files(*folders: str) -> list[Path]:
    files = [p for folder in folders for p in sorted((REPO / folder).rglob("*.py")) if "__pycache__" not in p.parts]
    assert files, folders
    return files


def estimator_files() -> list[Path]:
    return [p for p in python_files("energy", "ui", "optimizer") if not p.relative_to(REPO).as_posix().startswith(EXEMPT)]


def test_the_scanner_finds_every_import_form(tmp_path):
    sources = {
        "from energy.twin.truth import read_truth\n": [(1, False)],
        "import energy.twin.plant as plant\n": [(1, False)],
        "import os, energy.twin\n": [(1, False)],
        "from energy import twin\n": [(1, False)],
        "from energy import config, demo\n": [(1, False)],
        "from ..twin import truth\n": [(1, False)],  # relative, from energy.histories.x
        "from .. import twin\n": [(1, False)],
        "import importlib\nmod = importlib.import_module('energy.twin.truth')\n": [(2, False)],
        "def f():\n    from energy.twin.plant import PlantTwin\n    return PlantTwin\n": [(2, True)],
        "class C:\n    from energy.twin import truth\n": [(2, False)],  # a class body runs at import
        "from energy.twinkle import x\nimport energy.histories\nfrom energy import tariffs\n": [],
        "from . import twin\n": [],  # energy.histories.twin is not the twin
    }
    for source, expected in sources.items():
        assert twin_imports(source, "energy.histories.x") == expected, source
    # and on a real file of the tree, copied with one import added
    copy = tmp_path / "savings.py"
    original = (REPO / "energy" / "planning" / "savings.py").read_text(encoding="utf-8")
    copy.write_text(original + "\nfrom energy.twin.truth import read_truth\n", encoding="utf-8")
    assert twin_imports(original, "energy.planning.savings") == []
    assert twin_imports(copy.read_text(encoding="utf-8"), "energy.planning.savings") == [(original.count("\n") + 2, False)]


def test_no_estimator_module_imports_the_twin():
    files = estimator_files()
    names = {module_name(p) for p in files}
    assert {"energy.planning.savings", "energy.histories.intervals", "energy.dashboard", "optimizer.solve", "ui.app"} <= names
    offenders = [
        f"{path.relative_to(REPO)}:{line}"
        for path in files
        for line, _ in twin_imports(path.read_text(encoding="utf-8"), module_name(path))
    ]
    assert not offenders, f"estimator modules import the plant twin (energy.twin): {', '.join(offenders)}"


def test_cli_modules_import_the_twin_only_inside_functions():
    files = python_files("energy/cli")
    offenders = [
        f"{path.relative_to(REPO)}:{line}"
        for path in files
        for line, in_function in twin_imports(path.read_text(encoding="utf-8"), module_name(path))
        if not in_function
    ]
    assert not offenders, f"CLI modules import the plant twin at module level: {', '.join(offenders)}"


PROBE = textwrap.dedent(
    """
    import importlib, json, sys
    estimators, extra = json.loads(sys.argv[1])
    loaded = {}
    for name in estimators:
        importlib.import_module(name)
    loaded["estimators"] = sorted(m for m in sys.modules if m.startswith(("energy.twin", "energy.demo")))
    for name in extra:
        importlib.import_module(name)
    loaded["with_extra"] = sorted(m for m in sys.modules if m.startswith(("energy.twin", "energy.demo")))
    print(json.dumps(loaded))
    """
)


def test_importing_the_estimators_does_not_load_the_twin():
    """In a fresh interpreter: the estimators alone load no twin module; the probe does see one
    once something imports it (so a leak would be caught)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([list(ESTIMATORS), ["energy.twin.truth"]])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["estimators"] == [], f"importing the estimators loads {loaded['estimators']}"
    assert "energy.twin.truth" in loaded["with_extra"]

