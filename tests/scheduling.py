"""How `make test` spreads tests over pytest-xdist workers.

Each test goes to whichever worker is free, except that the tests of a module whose
fixtures are module-scoped (a live server, a browser, an installed client; declared in
the module or in a conftest.py above it) all go to one worker, so each such fixture is
built once and never twice at the same time. Modules with the most tests start first.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

ROOT = Path(__file__).resolve().parent.parent
MODULE_SCOPE = ('scope="module"', "scope='module'")


@cache
def shares_module_fixtures(module: str) -> bool:
    path = ROOT / module
    sources = [path, *(d / "conftest.py" for d in path.parents if d.is_relative_to(ROOT))]
    return any(
        marker in source.read_text()
        for source in sources
        if source.is_file()
        for marker in MODULE_SCOPE
    )


class ModuleFixtureScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return module if shares_module_fixtures(module) else nodeid
