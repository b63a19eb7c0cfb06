"""The consent ledger's hash chain: one rule, used by the server that writes it and the
client that checks it.

A record is a JSON object `{"seq", "kind", "at", "prev", ...}` where `prev` is the
hash of the record before it ("" for the first) and `hash` is the hex SHA-256 of
the record's canonical JSON without `hash`. Changing, dropping or reordering any
record breaks a link; a client that kept the newest hash it saw can tell whether
the history it already saw was rewritten or cut short.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

Record = dict[str, Any]
Head = tuple[int, str]

GENESIS = ""
# The fields every record has; what a kind adds may not use these names.
FRAME = ("seq", "kind", "at", "prev")


class Kind(StrEnum):
    """What happened to the account's consent."""

    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the owner revoked an invitation still waiting for an answer
    LEFT = "left"
    REMOVED = "removed"
    RETAGGED = "retagged"
    RENAMED = "renamed"
    BOOK_DISSOLVED = "book_dissolved"
    OWNER_CHANGED = "owner_changed"


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no spaces, UTF-8, and never the hash itself."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def chain(prev_hash: str, seq: int, kind: str, at: str, fields: Mapping[str, Any]) -> Record:
    """The record that follows `prev_hash` as number `seq`, with its hash."""
    clash = set(FRAME).union({"hash"}) & set(fields)
    if clash:
        raise ValueError(f"a record's own fields may not be named {sorted(clash)}")
    record: Record = {**fields, "seq": seq, "kind": kind, "at": at, "prev": prev_hash}
    record["hash"] = digest(record)
    return record


def head(records: Sequence[Mapping[str, Any]]) -> Head | None:
    """(seq, hash) of the newest of `records` (oldest first); None for none."""
    if not records:
        return None
    return int(records[-1]["seq"]), str(records[-1]["hash"])


def verify(records: Iterable[Mapping[str, Any]], known_head: Head | None) -> str | None:
    """What is wrong with a whole chain (oldest first), or None if nothing is.

    Every record must hash to its `hash`, number on from 1 and name the hash
    before it; and the head a client kept from an earlier check must still be
    there, unchanged, so the history it saw was neither rewritten nor cut.
    """
    prev = GENESIS
    hashes: dict[int, str] = {}
    for i, record in enumerate(records, start=1):
        seq = record.get("seq")
        if seq != i:
            return f"record {i} is numbered {seq!r}: a record is missing or out of order"
        if record.get("prev") != prev:
            return f"record {i} does not follow record {i - 1}: its prev is not that hash"
        if record.get("hash") != digest(record):
            return f"record {i} was changed: it does not hash to its hash"
        prev = hashes[i] = str(record["hash"])
    if known_head is not None:
        seq, kept = known_head
        if seq not in hashes:
            return (
                f"the ledger ends at record {len(hashes)}, but record {seq} was seen "
                "before: records were dropped"
            )
        if hashes[seq] != kept:
            return f"record {seq} is not the one seen before: the history was rewritten"
    return None
