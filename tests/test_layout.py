"""The package's layout holds: imports flow one way, the public API is exactly ``__all__``.

Data flows job file → engine → Twilio layer → journal, wired once by
``bulkops.run``; the commands sit on top and the sandbox beside. These tests
read every module's imports (at any depth, lazy ones included) and fail when a
lower layer reaches up or sideways.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import pytest

import bulkops

PACKAGE = Path(bulkops.__file__).resolve().parent
#: The shared values at the top: they import only each other.
SHARED = {
    "bulkops._version",
    "bulkops.config",
    "bulkops.egress",
    "bulkops.encoding",
    "bulkops.errors",
    "bulkops.files",
    "bulkops.jobs",
    "bulkops.keys",
    "bulkops.kinds",
    "bulkops.logs",
    "bulkops.model",
    "bulkops.resolve",
    "bulkops.retry",
    "bulkops.rows",
}
#: Layer → the only other modules of bulkops it may import. An allow-list, so that
#: ``from ..twilio import TwilioClient`` (seen as ``bulkops.twilio`` and
#: ``bulkops.twilio.TwilioClient``) is judged as the package it goes through, which
#: may hand out anything: a layer allowed part of a package may not import its top.
MAY_IMPORT = {
    "bulkops.engine": (*SHARED, "bulkops.twilio.wire", "bulkops.twilio.codes"),
    "bulkops.planning": SHARED,
    "bulkops.twilio": (
        "bulkops._version",
        "bulkops.config",
        "bulkops.egress",
        "bulkops.errors",
        "bulkops.model",
        "bulkops.retry",
    ),
}
#: Layer → the prefixes it must never import (for layers without an allow-list).
FORBIDDEN = {
    "bulkops.journal": (
        "bulkops.engine",
        "bulkops.twilio",
        "bulkops.commands",
        "bulkops.sandbox",
        "bulkops.run",
    ),
    "bulkops.sandbox": (
        "bulkops.engine",
        "bulkops.twilio",
        "bulkops.journal",
        "bulkops.commands",
        "bulkops.run",
    ),
    "bulkops.run": ("bulkops.commands", "bulkops.sandbox"),
    "bulkops.prerun": ("bulkops.commands", "bulkops.sandbox", "bulkops.journal"),
}
#: Sandbox modules the commands may load at import time: flags and data, no server.
LIGHT_SANDBOX = ("bulkops.sandbox.flags", "bulkops.sandbox.profile")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """Every module ``path`` imports, absolute, with whether it is at module level."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> list[tuple[str, bool]]:
    """The imports of ``source``, a module of ``package``, made absolute."""
    tree = ast.parse(source)
    top = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, id(node) in top))
            found += [(f"{target}.{alias.name}", id(node) in top) for alias in node.names]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_layout_finds_every_layer() -> None:
    """The rules below have modules to judge (a moved package would make them vacuous)."""
    names = {module_name(path) for path in MODULES}
    for layer in [*MAY_IMPORT, *FORBIDDEN, "bulkops.commands"]:
        assert any(n == layer or n.startswith(layer + ".") for n in names), layer
    assert names >= SHARED


def in_layer(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def outside_allow_list(name: str, target: str) -> bool:
    """True when ``name``'s layer has an allow-list and ``target`` is outside it and the layer."""
    for layer, allowed in MAY_IMPORT.items():
        if in_layer(name, layer):
            return not any(in_layer(target, other) for other in (layer, *allowed))
    return False


def violations(name: str, imports: list[tuple[str, bool]]) -> list[str]:
    """The imports of module ``name`` that break the layering rules."""
    bad = []
    for target, at_top in imports:
        if not target.startswith("bulkops"):
            continue
        forbidden = [f for layer, fs in FORBIDDEN.items() if in_layer(name, layer) for f in fs]
        shared_ok = target == "bulkops" or target in SHARED or target.rpartition(".")[0] in SHARED
        heavy_sandbox = in_layer(target, "bulkops.sandbox") and not (
            target == "bulkops.sandbox" or target.startswith(LIGHT_SANDBOX)  # a lazy __init__
        )
        if (
            outside_allow_list(name, target)
            or target.startswith(tuple(forbidden))
            or (name in SHARED and not shared_ok)
            or (in_layer(name, "bulkops.commands") and at_top and heavy_sandbox)
            or (
                in_layer(target, "bulkops.commands")
                and not in_layer(name, "bulkops.commands")
                and name != "bulkops.__main__"
            )
        ):
            bad.append(target)
    return sorted(set(bad))


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_flow_one_way(path: Path) -> None:
    """No module imports a layer its own layer must not reach."""
    assert violations(module_name(path), imports_of(path)) == []


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("bulkops.engine.calls", "from ..twilio.client import TwilioClient\n", "bulkops.twilio"),
        ("bulkops.engine.calls", "from ..twilio import TwilioClient\n", "bulkops.twilio"),
        ("bulkops.twilio.client", "from ..journal import ResultJournal\n", "bulkops.journal"),
        ("bulkops.twilio.client", "from ..jobs import open_job\n", "bulkops.jobs"),
        ("bulkops.model", "from .engine import Engine\n", "bulkops.engine"),
        ("bulkops.commands.run", "from ..sandbox import server\n", "bulkops.sandbox"),
        ("bulkops.run", "def f():\n    from .commands import cli\n", "bulkops.commands"),
        ("bulkops.planning.planner", "from ..twilio import listing\n", "bulkops.twilio"),
    ],
    ids=[
        "engine-client",
        "engine-client-via-package",
        "twilio-journal",
        "twilio-jobs",
        "shared-engine",
        "commands-server",
        "run-commands",
        "planning-twilio",
    ],
)
def test_the_rules_catch_a_wrong_import(name: str, source: str, expected: str) -> None:
    """Each kind of wrong import is caught, so a green layout test means something."""
    package = name.rpartition(".")[0]
    bad = violations(name, imports_in(source, package))
    assert bad
    assert all(target.startswith(expected) for target in bad), bad


def test_importing_the_engine_loads_no_http_client() -> None:
    """The engine meets the client through a Protocol: loading it loads neither client nor aiohttp.

    A fresh interpreter, since this one has loaded everything already.
    """
    check = (
        "import bulkops.engine, sys; "
        "assert 'bulkops.twilio.client' not in sys.modules; "
        "assert 'aiohttp' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", check], check=True)


def test_the_command_line_loads_no_sandbox_server() -> None:
    """Loading the commands loads the sandbox's flags and data, never its server."""
    check = (
        "import bulkops.commands.cli, sys; "
        "assert 'bulkops.sandbox.server' not in sys.modules; "
        "assert 'bulkops.sandbox.app' not in sys.modules; "
        "assert 'aiohttp.web' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", check], check=True)


def test_the_import_reader_resolves_relative_and_nested_imports() -> None:
    """Relative, nested and from-imports are all seen, so the rules can fail."""
    source = "from ..twilio import client\nfrom . import feed\n\ndef f():\n    import bulkops.run\n"
    found = imports_in(source, "bulkops.engine")
    assert ("bulkops.twilio.client", True) in found
    assert ("bulkops.engine.feed", True) in found
    assert ("bulkops.run", False) in found


def test_all_lists_exactly_the_public_api() -> None:
    """``bulkops.__all__`` is sorted, complete and names only what exists."""
    exported = bulkops.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(bulkops).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(exported) - {"__version__"} == public
    for name in exported:
        assert hasattr(bulkops, name), name


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_module_is_over_300_lines(path: Path) -> None:
    """Small modules, one concept each."""
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 300, f"{module_name(path)} has {lines} lines"


def test_each_subpackage_says_what_it_owns_and_may_import() -> None:
    """Every subpackage's ``__init__`` docstring names what it may import."""
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "import" in doc, f"{init.parent.name}/__init__.py does not say what it may import"
