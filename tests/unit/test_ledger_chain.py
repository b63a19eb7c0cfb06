"""The consent ledger's hash chain: any change, gap or cut shows, and nothing else does."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circlebook.hashchain import GENESIS, canonical, chain, digest, head, verify

AT = "2026-03-01T09:00:00.000000Z"


def build(count: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        fields = {"book": {"id": f"b_{seq}", "title": "Club 俱乐部"}, "tags": ["a", "b"]}
        record = chain(prev, seq, "invited", AT, fields)
        records.append(record)
        prev = record["hash"]
    return records


def test_the_hash_is_sha256_of_sorted_compact_utf8_json_without_the_hash() -> None:
    record = chain(GENESIS, 1, "accepted", AT, {"book": {"title": "Ünï 书"}})
    without = {k: v for k, v in record.items() if k != "hash"}
    expected = json.dumps(without, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(record) == expected.encode()
    assert record["hash"] == hashlib.sha256(expected.encode()).hexdigest()
    assert digest(record) == record["hash"]
    assert "书".encode() in canonical(record)


def test_records_link_to_the_one_before_and_the_first_to_nothing() -> None:
    records = build(3)
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[0]["prev"] == ""
    assert records[1]["prev"] == records[0]["hash"]
    assert records[2]["prev"] == records[1]["hash"]


def test_an_untouched_chain_verifies_with_or_without_a_known_head() -> None:
    records = build(4)
    assert verify(records, None) is None
    assert verify(records, head(records)) is None
    assert verify(records, (2, records[1]["hash"])) is None
    assert verify([], None) is None
    assert head([]) is None


def test_a_changed_record_fails_even_with_its_hash_recomputed() -> None:
    records = build(3)
    records[1]["tags"] = ["c"]
    assert "record 2 was changed" in str(verify(records, None))
    records[1]["hash"] = digest(records[1])
    assert "record 3 does not follow record 2" in str(verify(records, None))


def test_the_newest_record_rewritten_whole_fails_against_the_known_head() -> None:
    records = build(3)
    known = head(records)
    records[2]["tags"] = ["rewritten"]
    records[2]["hash"] = digest(records[2])
    assert verify(records, None) is None  # a newcomer could not tell...
    assert "history was rewritten" in str(verify(records, known))  # ...the keeper of the head can


def test_a_dropped_newest_record_fails_against_the_known_head() -> None:
    records = build(3)
    known = head(records)
    assert verify(records[:2], None) is None
    assert "records were dropped" in str(verify(records[:2], known))


def test_a_gap_or_a_reordering_fails() -> None:
    records = build(4)
    assert "missing or out of order" in str(verify([records[0], records[2], records[3]], None))
    assert "missing or out of order" in str(verify([records[1], records[0]], None))


def test_a_record_may_not_carry_the_chain_s_own_fields() -> None:
    for name in ("seq", "kind", "at", "prev", "hash"):
        with pytest.raises(ValueError, match="may not be named"):
            chain(GENESIS, 1, "left", AT, {name: "x"})


@given(
    st.lists(st.dictionaries(st.sampled_from("xyz"), st.text(max_size=5)), max_size=6),
    st.data(),
)
def test_changing_any_field_of_any_record_is_caught(
    fields: list[dict[str, str]], data: st.DataObject
) -> None:
    records: list[dict[str, Any]] = []
    prev = GENESIS
    for seq, extra in enumerate(fields, start=1):
        records.append(chain(prev, seq, "retagged", AT, extra))
        prev = records[-1]["hash"]
    known = head(records)
    assert verify(records, known) is None
    if not records:
        return
    victim = data.draw(st.sampled_from(records))
    key = data.draw(st.sampled_from(sorted(k for k in victim if k != "hash")))
    victim[key] = ["tampered", victim[key]]
    assert verify(records, known) is not None
