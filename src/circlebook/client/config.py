"""Where the terminal keeps its session: a file in the user's config directory, private to them."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from platformdirs import user_config_path, user_data_path

DEFAULT_SERVER = "http://127.0.0.1:8000"


def config_dir() -> Path:
    return user_config_path("circlebook")


def data_dir() -> Path:
    return user_data_path("circlebook")


@dataclass(frozen=True, slots=True)
class SavedSession:
    server: str
    token: str
    phone: str
    account_id: str


def _session_file() -> Path:
    return config_dir() / "session.json"


def load_session() -> SavedSession | None:
    path = _session_file()
    try:
        data = json.loads(path.read_text())
        return SavedSession(**data)
    except (OSError, ValueError, TypeError):
        return None


def save_session(session: SavedSession) -> Path:
    """Write the token so that only this user can read it, replacing any older one whole."""
    path = _session_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".session-")
    with os.fdopen(fd, "w") as handle:  # mkstemp creates the file with mode 0600
        json.dump(asdict(session), handle)
    os.replace(tmp, path)
    return path


def forget_session() -> bool:
    try:
        _session_file().unlink()
    except FileNotFoundError:
        return False
    return True
