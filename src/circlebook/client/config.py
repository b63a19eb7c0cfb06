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


def _private_write(path: Path, data: object) -> None:
    """Replace the file whole, readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    with os.fdopen(fd, "w") as handle:  # mkstemp creates the file with mode 0600
        json.dump(data, handle)
    os.replace(tmp, path)


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
    _private_write(path, asdict(session))
    return path


def forget_session() -> bool:
    try:
        _session_file().unlink()
    except FileNotFoundError:
        return False
    return True


# The newest ledger record each account's chain was last verified at, per server and
# account: `circlebook ledger --verify` proves the server kept that history unchanged.
def _heads_file() -> Path:
    return config_dir() / "ledger_heads.json"


def _heads() -> dict[str, object]:
    try:
        data = json.loads(_heads_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _head_key(server: str, account_id: str) -> str:
    return f"{server.rstrip('/')} {account_id}"


def load_ledger_head(server: str, account_id: str) -> tuple[int, str] | None:
    """The `ledger_head` kept for this server and account: (seq, hash), or None."""
    kept = _heads().get(_head_key(server, account_id))
    head = kept.get("ledger_head") if isinstance(kept, dict) else None
    if not isinstance(head, dict):
        return None
    seq, hash_ = head.get("seq"), head.get("hash")
    if not isinstance(seq, int) or not isinstance(hash_, str):
        return None
    return seq, hash_


def save_ledger_head(server: str, account_id: str, seq: int, hash_: str) -> Path:
    heads = _heads()
    heads[_head_key(server, account_id)] = {"ledger_head": {"seq": seq, "hash": hash_}}
    path = _heads_file()
    _private_write(path, heads)
    return path
