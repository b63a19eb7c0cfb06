"""A local copy of one book, kept current with delta sync."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from circlebook.client.async_sdk import AsyncClient
from circlebook.client.errors import ResyncRequiredError
from circlebook.client.models import EntriesPage, Entry
from circlebook.client.sdk import Client


@dataclass(frozen=True, slots=True)
class SyncReport:
    full: bool
    changed: int
    removed: int


@dataclass
class LocalBook:
    """What a member holds of a book: entries by id and the token to ask for changes with."""

    book_id: str
    entries: dict[str, Entry] = field(default_factory=dict)
    sync_token: str | None = None

    def apply(self, page: EntriesPage, *, full: bool) -> SyncReport:
        if full:
            self.entries = {}
        for entry in page.entries:
            self.entries[entry.id] = entry
        gone = [i for i in page.removed if self.entries.pop(i, None) is not None]
        self.sync_token = page.sync_token
        return SyncReport(full, len(page.entries), len(gone))

    def sync(self, client: Client) -> SyncReport:
        """Ask for what changed; fall back to a full fetch when the token is stale."""
        if self.sync_token is not None:
            try:
                page = client.entries(self.book_id, since=self.sync_token)
            except ResyncRequiredError:
                pass
            else:
                return self.apply(page, full=False)
        return self.apply(client.entries(self.book_id), full=True)

    async def async_sync(self, client: AsyncClient) -> SyncReport:
        if self.sync_token is not None:
            try:
                page = await client.entries(self.book_id, since=self.sync_token)
            except ResyncRequiredError:
                pass
            else:
                return self.apply(page, full=False)
        return self.apply(await client.entries(self.book_id), full=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "book_id": self.book_id,
            "sync_token": self.sync_token,
            "entries": [e.to_json() for e in self.entries.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LocalBook:
        entries = {e["id"]: Entry.from_json(e) for e in data["entries"]}
        return cls(data["book_id"], entries, data.get("sync_token"))

    def save(self, path: Path) -> None:
        """Write atomically, readable by the user only: it holds other people's numbers."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sync-")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.to_json(), handle, ensure_ascii=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, book_id: str) -> LocalBook:
        if not path.exists():
            return cls(book_id)
        return cls.from_json(json.loads(path.read_text()))
