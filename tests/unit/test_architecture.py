"""Imports point inward: the domain is pure, services know no adapters, adapters no edges."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

import circlebook

PACKAGE = Path(circlebook.__file__).parent
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# Adapters implement the services' ports, so that one module of services they may import.
PORTS = "circlebook.services.ports"

FORBIDDEN = {
    "domain": {
        "services",
        "storage",
        "api",
        "sms",
        "push",
        "app",
        "settings",
        "client",
        "serving",
        "observe",
    },
    "services": {
        "storage",
        "api",
        "sms",
        "push",
        "app",
        "settings",
        "client",
        "serving",
        "observe",
    },
    "storage": {"services", "api", "sms", "app", "settings", "client", "serving", "observe"},
    "sms": {"services", "storage", "api", "app", "settings", "client", "serving", "observe"},
    "push": {
        "services",
        "storage",
        "api",
        "sms",
        "app",
        "settings",
        "client",
        "serving",
        "observe",
    },
    # The edges import none of each other: what they share of a request is in `edge`.
    "api": {"storage", "sms", "app", "client", "serving", "dav", "web"},
    "dav": {"storage", "sms", "app", "client", "serving", "api", "web"},
    "web": {"storage", "sms", "app", "client", "serving", "api", "dav"},
    "edge": {"storage", "sms", "app", "client", "serving", "api", "dav", "web"},
    # Metrics, logs and readiness watch the server; nothing they import may depend on them.
    "observe": {"api", "dav", "web", "app", "client", "serving"},
    # Numbers and contacts files, read alike by the server and the client: both import
    # it, so it imports neither, nor anything of the server side the client could not load.
    "phonebook": {
        "domain",
        "services",
        "storage",
        "api",
        "sms",
        "push",
        "app",
        "settings",
        "client",
        "serving",
        "observe",
        "dav",
        "web",
        "notify",
        "__main__",
    },
    # The client is installed without the server (`pip install circlebook`): it may use
    # the pure domain and the phonebook, nothing else of the server side.
    "client": {
        "services",
        "storage",
        "api",
        "sms",
        "app",
        "settings",
        "serving",
        "dav",
        "web",
        "notify",
        "push",
        "observe",
    },
}


def imports_of(layer: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((path.name, node.module))
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_outer_layers(layer: str) -> None:
    wrong = [
        (where, module)
        for where, module in imports_of(layer)
        if module.startswith("circlebook.")
        and module.split(".")[1] in FORBIDDEN[layer]
        and not (module == PORTS and layer in ("storage", "sms"))
    ]
    assert wrong == []


def test_domain_uses_only_the_standard_library() -> None:
    outside = [
        (where, module)
        for where, module in imports_of("domain")
        if module.split(".")[0] not in sys.stdlib_module_names
        and not module.startswith("circlebook.domain")
    ]
    assert outside == []


def _client_install_imports() -> set[str]:
    """The import names of what `pip install circlebook` brings, without the server extra."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    names = {re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0] for spec in project["dependencies"]}
    return {name.lower().replace("-", "_") for name in names}


def test_phonebook_uses_only_what_the_client_install_brings() -> None:
    allowed = sys.stdlib_module_names | _client_install_imports()
    outside = [
        (where, module)
        for where, module in imports_of("phonebook")
        if module.split(".")[0] not in allowed and not module.startswith("circlebook.phonebook")
    ]
    assert {"phonenumbers", "vobject"} <= _client_install_imports()
    assert outside == []
