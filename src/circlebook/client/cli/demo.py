"""`circlebook demo`: the whole flow, played out in three terminals."""

from __future__ import annotations

from circlebook.client.cli.root import app
from circlebook.client.demo import main as play_demo


@app.command()
def demo() -> None:
    """Play the whole flow with three terminals against a throwaway local server."""
    play_demo()
