"""The kiosk agent imports nothing from `ediary/`: the two share only the wire protocol.

A kiosk is installed on a classroom computer without the server's code (and its database
drivers, its secrets' handling). Two checks: every module of `kiosk/` is read (ast) for an import
of `ediary` in any form, and a fresh interpreter that imports every kiosk module finds no
`ediary` module loaded (which also catches an import made by a string at run time).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIOSK = ROOT / "kiosk"
FORBIDDEN = "ediary"
DYNAMIC = {"import_module", "__import__"}  # importlib.import_module("..."), __import__("...")


def _forbidden(name: str) -> bool:
    return name == FORBIDDEN or name.startswith(f"{FORBIDDEN}.")


def server_imports(source: str, filename: str = "<kiosk module>") -> list[str]:
    """Each import of the server's package in `source`, as "line: what" (empty when none)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # `kiosk` is a top-level package: a relative import above it would leave the kiosk.
            names = [node.module or ""] if node.level == 0 else []
            if node.level > 1:
                names.append(FORBIDDEN)
        elif isinstance(node, ast.Call):
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in DYNAMIC and node.args and isinstance(node.args[0], ast.Constant):
                names = [str(node.args[0].value)]
        found += [f"{getattr(node, 'lineno', 0)}: {n}" for n in names if _forbidden(n)]
    return found


def kiosk_modules() -> list[Path]:
    modules = sorted(KIOSK.rglob("*.py"))
    assert len(modules) >= 10, modules  # the agent, its server, outbox, connection, ...
    return modules


def test_no_kiosk_module_imports_the_server() -> None:
    imports = {
        str(path.relative_to(ROOT)): found
        for path in kiosk_modules()
        if (found := server_imports(path.read_text(encoding="utf-8"), str(path)))
    }
    assert imports == {}


@pytest.mark.parametrize(
    "source",
    [
        "import ediary",
        "import ediary.db as database",
        "import json, ediary.timetable.queries",
        "from ediary import create_app",
        "from ediary.kiosks.schema import LOGIN",
        "def late():\n    from ediary.config import Config\n    return Config",
        "import importlib\nimportlib.import_module('ediary.cli')",
        "from importlib import import_module\nimport_module('ediary')",
        "__import__('ediary.db')",
        "from .. import ediary",
    ],
)
def test_the_check_finds_every_form_of_import(source: str) -> None:
    assert server_imports(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "import kiosk.protocol",
        "from kiosk import protocol",
        "from . import protocol",
        "import ediary_tools",  # another package whose name only starts alike
        "text = 'imports nothing from ediary'",
    ],
)
def test_the_check_lets_the_kiosks_own_imports_through(source: str) -> None:
    assert server_imports(source) == []


def test_importing_every_kiosk_module_loads_nothing_of_the_server() -> None:
    names = [".".join(path.relative_to(ROOT).with_suffix("").parts) for path in kiosk_modules()]
    probe = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m == {FORBIDDEN!r} "
        f"or m.startswith({FORBIDDEN + '.'!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
