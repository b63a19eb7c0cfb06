"""The terminal: `circlebook login`, `contacts`, `create`, `inbox`, `show`, `sync` and the rest."""

from __future__ import annotations

from circlebook.client.cli.root import app, run

# Imported only to register their commands on `app`, which `circlebook --help` lists in the
# order they were registered: signing in first. Hence not alphabetical. The server's
# commands (serve, migrate, demo) register in circlebook.__main__.
# isort: off
from circlebook.client.cli import session, addressbook, inviting, reading  # noqa: F401
from circlebook.client.cli import owning, devices, privacy  # noqa: F401
# isort: on

__all__ = ["app", "run"]
