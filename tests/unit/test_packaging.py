"""pyproject.toml declares every library the code imports, and the extras the code checks for."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from corpus.extras import EXTRAS
from tests.helpers import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PACKAGES = [
    name.rstrip("*") for name in PROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
]
OWNERS = packages_distributions()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_norm(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


def _imported(folder: str, *, top_level: bool = False) -> dict[str, str]:
    """Return the third-party top-level modules imported under ``folder``, each with one file.

    With ``top_level``, only the imports run when a module is imported (not inside functions).
    """
    local = {*PACKAGES, "tests"}
    found: dict[str, str] = {}
    for path in sorted((REPO / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        nodes = _module_level(tree.body) if top_level else ast.walk(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for top in {name.split(".")[0] for name in names}:
                if top not in sys.stdlib_module_names and top not in local | {"__future__"}:
                    found.setdefault(top, str(path.relative_to(REPO)))
    return found


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Return the statements of ``body`` run at import, looking into ``if`` and ``try``."""
    nodes: list[ast.stmt] = []
    for node in body:
        nodes.append(node)
        if isinstance(node, ast.If | ast.Try):
            nodes += _module_level([*node.body, *node.orelse])
    return nodes


def _undeclared(modules: dict[str, str], declared: set[str]) -> list[str]:
    return [
        f"{module} ({where})"
        for module, where in sorted(modules.items())
        if not {_norm(d) for d in OWNERS.get(module, [module])} & declared
    ]


def test_every_library_the_code_imports_is_a_dependency_or_in_an_extra():
    extras = PROJECT["project"]["optional-dependencies"].values()
    declared = _declared([*PROJECT["project"]["dependencies"], *(r for e in extras for r in e)])
    dev = _declared(PROJECT["dependency-groups"]["dev"])
    imported: dict[str, str] = {}
    at_import: dict[str, str] = {}
    for package in PACKAGES:
        imported |= _imported(package)
        at_import |= _imported(package, top_level=True)
    assert "streamlit" in imported and "ranx" in imported  # the walk sees the code
    # A developer tool inside a package (ui.screenshots: playwright) may use the dev group,
    # inside a function only, so importing the package never needs it.
    assert _undeclared(imported, declared | dev) == []
    assert _undeclared(at_import, declared) == []


def test_every_library_the_tests_import_is_declared_with_the_dev_group():
    extras = PROJECT["project"]["optional-dependencies"].values()
    declared = _declared(
        [
            *PROJECT["project"]["dependencies"],
            *(r for e in extras for r in e),
            *PROJECT["dependency-groups"]["dev"],
        ]
    )
    assert _undeclared(_imported("tests"), declared) == []


def test_test_and_lint_tools_stay_out_of_the_base_install():
    base = _declared(PROJECT["project"]["dependencies"])
    dev = _declared(PROJECT["dependency-groups"]["dev"])
    assert "pytest" in dev and not dev & base


def test_each_extra_installs_the_modules_its_check_looks_for():
    extras = PROJECT["project"]["optional-dependencies"]
    for extra, modules in EXTRAS.items():
        declared = _declared(extras[extra])
        for module in modules:
            assert {_norm(d) for d in OWNERS[module]} & declared, (extra, module)
    assert extras["all"] == [f"lenswise[{','.join(EXTRAS)}]"]
