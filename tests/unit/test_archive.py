"""The backup file format: what goes in comes out, and a file cut short is told apart."""

from __future__ import annotations

import gzip
import io

import pytest

from circlebook.storage.archive import ArchiveError, ArchiveReader, ArchiveWriter, Header, Trailer

HEADER = Header("0009", "sqlite", "2026-03-01T09:00:00.000000Z", ("accounts", "events"))
ACCOUNTS = [["a_1", "+8613800139201", "李雷 Li Lei", True], ["a_2", "+8613800139202", "", None]]
EVENTS = [[1, b"\x00\xffbinary"], [9_007_199_254_740_993, b""]]


def written() -> bytes:
    sink = io.BytesIO()
    writer = ArchiveWriter(sink, HEADER)
    writer.table("accounts", ["id", "phone", "name", "flag"], iter(ACCOUNTS))
    writer.table("events", ["id", "blob"], iter(EVENTS))
    writer.close(Trailer({"events": 12}))
    return sink.getvalue()


def read_all(
    data: bytes, batch_size: int = 1000
) -> tuple[ArchiveReader, dict[str, list[list[object]]]]:
    reader = ArchiveReader(io.BytesIO(data), batch_size=batch_size)
    tables = {t.name: [row for batch in t.batches for row in batch] for t in reader.tables()}
    return reader, tables


def test_rows_bytes_and_counters_come_back_as_they_were_written() -> None:
    reader, tables = read_all(written(), batch_size=1)

    assert reader.header == HEADER
    assert tables == {"accounts": ACCOUNTS, "events": EVENTS}
    assert reader.trailer == Trailer({"events": 12})


def test_a_table_left_unread_does_not_put_the_reader_out_of_step() -> None:
    reader = ArchiveReader(io.BytesIO(written()))
    names = [t.name for t in reader.tables()]

    assert names == ["accounts", "events"]
    assert reader.trailer == Trailer({"events": 12})


@pytest.mark.parametrize("keep", [1, 2, 4, 6, 7])
def test_a_file_cut_at_any_line_is_refused(keep: int) -> None:
    lines = gzip.decompress(written()).splitlines(keepends=True)

    with pytest.raises(ArchiveError):
        read_all(gzip.compress(b"".join(lines[:keep])))


def test_a_row_dropped_from_a_table_is_refused() -> None:
    lines = gzip.decompress(written()).splitlines(keepends=True)
    del lines[2]

    with pytest.raises(ArchiveError, match="does not end where it should"):
        read_all(gzip.compress(b"".join(lines)))


def test_anything_after_the_last_line_is_refused() -> None:
    with pytest.raises(ArchiveError, match="more follows"):
        read_all(gzip.compress(gzip.decompress(written()) + b"[1]\n"))
