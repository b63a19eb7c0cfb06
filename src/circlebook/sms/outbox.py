"""Appends each message as one JSON line to a file: for tests, demos and local setups."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


class FileOutboxSender:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, to: str, text: str) -> None:
        line = json.dumps({"to": to, "text": text}, ensure_ascii=False) + "\n"
        # O_APPEND with one write per message keeps lines whole across processes.
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
