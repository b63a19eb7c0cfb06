"""The backup file: gzip'd JSON lines that either backend writes and either reads back.

One format for SQLite and PostgreSQL is what lets a deployment move between
them. The file is read as a stream, so a restore never holds a table in memory:

    {"format": "circlebook-backup", "format_version": 1, "revision": "0009",
     "backend": "sqlite", "created_at": "...Z", "tables": ["accounts", ...]}
    {"table": "accounts", "columns": ["id", "phone", "name", "created_at"]}
    ["a1b2...", "+8613800138000", "Li Lei", "2026-01-02T03:04:05.000006Z"]
    ...
    {"end": "accounts", "rows": 2}
    ...
    {"complete": true, "sequences": {"events": 1234}}

Tables come in dependency order (a row's foreign keys point at rows already
read). A row is a JSON array in its table's column order; bytes, which no
column holds today, would be written as {"base64": "..."}. The last line, with
every table's `end` count, is what tells a whole file from one cut short.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

FORMAT = "circlebook-backup"
FORMAT_VERSION = 1

Row = list[Any]


class ArchiveError(Exception):
    """The file is not a whole circlebook backup; the message says where it stops making sense."""


@dataclass(frozen=True)
class Header:
    revision: str
    backend: str
    created_at: str
    tables: tuple[str, ...]


@dataclass
class TableRows:
    """One table's rows as they are read: iterate `batches` before reading on."""

    name: str
    columns: tuple[str, ...]
    batches: Iterator[list[Row]]


@dataclass
class Trailer:
    sequences: dict[str, int] = field(default_factory=dict)


def _value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _restored(value: Any) -> Any:
    if isinstance(value, dict):
        encoded = value.get("base64")
        if not isinstance(encoded, str) or len(value) != 1:
            raise ValueError('an object that is not {"base64": ...}')
        return base64.b64decode(encoded, validate=True)
    return value


class ArchiveWriter:
    """Writes one backup to an open binary file, table by table."""

    def __init__(self, sink: IO[bytes], header: Header) -> None:
        # mtime=0: the same data gives the same bytes; the time is in the header.
        self._gz = gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6, mtime=0)
        self._line(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "revision": header.revision,
                "backend": header.backend,
                "created_at": header.created_at,
                "tables": list(header.tables),
            }
        )

    def _line(self, document: object) -> None:
        self._gz.write(orjson.dumps(document) + b"\n")

    def table(self, name: str, columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
        self._line({"table": name, "columns": list(columns)})
        count = 0
        for row in rows:
            self._line([_value(v) for v in row])
            count += 1
        self._line({"end": name, "rows": count})
        return count

    def close(self, trailer: Trailer) -> None:
        self._line({"complete": True, "sequences": trailer.sequences})
        self._gz.close()


class ArchiveReader:
    """Reads a backup as a stream: `header`, then `tables()`, then `trailer`."""

    def __init__(self, source: IO[bytes], batch_size: int = 1000) -> None:
        self._gz = gzip.GzipFile(fileobj=source, mode="rb")
        self._number = 0
        self._batch_size = batch_size
        self.trailer: Trailer | None = None
        self.header = self._read_header()

    def _next(self) -> Any:
        self._number += 1
        try:
            line = self._gz.readline()
        except (OSError, EOFError, zlib.error) as exc:
            # gzip's own check (length and CRC-32) catches a file cut short or altered.
            raise ArchiveError(f"line {self._number}: the file is damaged ({exc})") from None
        if not line:
            raise ArchiveError(f"line {self._number}: the file ends early: it is not complete")
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ArchiveError(f"line {self._number}: not JSON: the file is damaged") from None

    def _read_header(self) -> Header:
        first = self._next()
        if not isinstance(first, dict) or first.get("format") != FORMAT:
            raise ArchiveError("this is not a circlebook backup")
        if first.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(
                f"backup format {first.get('format_version')!r} is not one this version "
                f"reads ({FORMAT_VERSION})"
            )
        tables = first.get("tables")
        revision = first.get("revision")
        if not isinstance(revision, str) or not isinstance(tables, list):
            raise ArchiveError("line 1: the header names no schema revision or tables")
        if not all(isinstance(t, str) for t in tables):
            raise ArchiveError("line 1: the header's tables are not names")
        return Header(
            revision=revision,
            backend=str(first.get("backend", "")),
            created_at=str(first.get("created_at", "")),
            tables=tuple(tables),
        )

    def tables(self) -> Iterator[TableRows]:
        for name in self.header.tables:
            start = self._next()
            columns = start.get("columns") if isinstance(start, dict) else None
            if not isinstance(columns, list) or start.get("table") != name:
                raise ArchiveError(f"line {self._number}: expected the start of table {name}")
            table = TableRows(name, tuple(columns), self._batches(name, len(columns)))
            yield table
            # Whatever the caller left unread must still be read, to stay in step.
            for _ in table.batches:
                pass
        self._read_trailer()

    def _batches(self, name: str, width: int) -> Iterator[list[Row]]:
        batch: list[Row] = []
        count = 0
        while True:
            item = self._next()
            if isinstance(item, dict):
                if item.get("end") != name or item.get("rows") != count:
                    raise ArchiveError(
                        f"line {self._number}: table {name} does not end where it should"
                    )
                break
            if not isinstance(item, list) or len(item) != width:
                raise ArchiveError(f"line {self._number}: not a row of table {name}")
            try:
                batch.append([_restored(v) for v in item])
            except ValueError as exc:
                raise ArchiveError(f"line {self._number}: a value is damaged ({exc})") from None
            count += 1
            if len(batch) >= self._batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _read_trailer(self) -> None:
        last = self._next()
        sequences = last.get("sequences") if isinstance(last, dict) else None
        if not isinstance(last, dict) or last.get("complete") is not True:
            raise ArchiveError(f"line {self._number}: the file does not end as a backup does")
        if not isinstance(sequences, dict) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in sequences.items()
        ):
            raise ArchiveError(f"line {self._number}: the sequence positions are not numbers")
        try:
            extra = self._gz.read(1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ArchiveError(f"the file is damaged after its last line ({exc})") from None
        if extra:
            raise ArchiveError(f"line {self._number + 1}: more follows the end of the backup")
        self.trailer = Trailer(sequences)
