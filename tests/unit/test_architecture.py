"""What the pure packages may import from outside circlebook.

The direction of imports inside circlebook is import-linter's to check (the contracts in
pyproject.toml, run by `make lint`); it cannot say "only the standard library", so these can.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import circlebook

PACKAGE = Path(circlebook.__file__).parent
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def imports_of(layer: str) -> list[tuple[str, str]]:
    found = []
    module = PACKAGE / f"{layer}.py"
    paths = [module] if module.is_file() else sorted((PACKAGE / layer).rglob("*.py"))
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((path.name, node.module))
    return found


def test_domain_uses_only_the_standard_library() -> None:
    outside = [
        (where, module)
        for where, module in imports_of("domain")
        if module.split(".")[0] not in sys.stdlib_module_names
        and not module.startswith("circlebook.domain")
    ]
    assert outside == []


def test_the_hash_chain_uses_only_the_standard_library() -> None:
    # The client checks the consent ledger with this very module, wherever it runs.
    found = imports_of("hashchain")
    assert ("hashchain.py", "hashlib") in found
    assert [m for _, m in found if m.split(".")[0] not in sys.stdlib_module_names] == []


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
