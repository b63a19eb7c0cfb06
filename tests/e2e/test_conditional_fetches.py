"""Full fetches carry an ETag of the caller's own view; a current copy is answered 304.

The tag moves exactly when the caller's view does: a change it cannot see (an
entry of another tag) leaves it as it was, and a 304 reads no entry but the
caller's own. CardDAV REPORTs that list the whole collection carry the same
kind of tag, and are refused 412 (RFC 9110 section 13.1.2: not GET) while the
client's copy is current.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.conftest import Person
from tests.e2e.dav import DECLARE, DavUser, book_with, dav_user, parse_multistatus, sync_body

OWNER, RED, RED_MATE, BLUE = (f"+86137001400{n:02d}" for n in range(1, 5))
FETCHES = ["/entries", "/export.vcf"]


@pytest.fixture
def club(people: Any) -> tuple[str, dict[str, Person], dict[str, str]]:
    """A book: the owner, two members tagged red, one tagged blue (whom red cannot see)."""
    who = {
        "owner": people(OWNER, "Olga"),
        "red": people(RED, "Rex"),
        "mate": people(RED_MATE, "Ria"),
        "blue": people(BLUE, "Bo"),
    }
    members = [(who["red"], ["red"]), (who["mate"], ["red"]), (who["blue"], ["blue"])]
    book_id, entry_ids = book_with(who["owner"], "Club", members)
    return book_id, who, entry_ids


def fetch(person: Person, book_id: str, path: str, tag: str | None = None, **params: Any) -> Any:
    headers = {**person.headers, **({"If-None-Match": tag} if tag is not None else {})}
    return person.client.get(f"/v1/books/{book_id}{path}", headers=headers, params=params)


@pytest.mark.parametrize("path", FETCHES)
def test_a_current_copy_is_answered_304_with_no_body_and_the_same_etag(
    club: Any, path: str
) -> None:
    book_id, who, _ = club
    first = fetch(who["red"], book_id, path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and etag.endswith('"')

    again = fetch(who["red"], book_id, path, etag)

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


@pytest.mark.parametrize("path", FETCHES)
def test_a_change_the_caller_sees_answers_200_with_a_new_etag(club: Any, path: str) -> None:
    book_id, who, entry_ids = club
    etag = fetch(who["red"], book_id, path).headers["etag"]
    renamed = who["mate"].patch(
        f"/v1/books/{book_id}/entries/{entry_ids[RED_MATE]}", json={"name": "Ria II"}
    )
    assert renamed.status_code == 200

    after = fetch(who["red"], book_id, path, etag)

    assert after.status_code == 200
    assert "Ria II" in after.text
    assert after.headers["etag"] != etag
    assert fetch(who["red"], book_id, path, after.headers["etag"]).status_code == 304


@pytest.mark.parametrize("path", FETCHES)
def test_a_change_the_caller_cannot_see_leaves_its_etag(club: Any, path: str, people: Any) -> None:
    book_id, who, entry_ids = club
    red_tag = fetch(who["red"], book_id, path).headers["etag"]
    owner_tag = fetch(who["owner"], book_id, path).headers["etag"]
    renamed = who["owner"].patch(
        f"/v1/books/{book_id}/entries/{entry_ids[BLUE]}", json={"name": "Bo II"}
    )
    assert renamed.status_code == 200
    newcomer = people("+8613700140099", "Nia")
    invited = who["owner"].post(
        f"/v1/books/{book_id}/invitations",
        json={"invitees": [{"phone": newcomer.phone, "tags": ["blue"]}]},
    )
    assert invited.status_code == 200, invited.text
    newcomer.accept(book_id)

    assert fetch(who["red"], book_id, path, red_tag).status_code == 304
    # The owner sees everything: the same changes move its tag.
    assert fetch(who["owner"], book_id, path, owner_tag).status_code == 200


def test_each_member_and_exclude_self_has_its_own_etag(club: Any) -> None:
    book_id, who, _ = club
    tags = {name: fetch(p, book_id, "/entries").headers["etag"] for name, p in who.items()}
    red_without_self = fetch(who["red"], book_id, "/entries", exclude_self="true")
    vcf = fetch(who["red"], book_id, "/export.vcf").headers["etag"]

    assert len(set(tags.values())) == len(tags)
    assert red_without_self.headers["etag"] not in (tags["red"], vcf)
    # Another member's tag, or the other representation's, is no proof of a current copy.
    assert fetch(who["red"], book_id, "/entries", tags["mate"]).status_code == 200
    assert fetch(who["red"], book_id, "/entries", vcf).status_code == 200
    assert (
        fetch(who["red"], book_id, "/entries", red_without_self.headers["etag"]).status_code == 200
    )
    with_self_tag = fetch(who["red"], book_id, "/entries", tags["red"], exclude_self="true")
    assert with_self_tag.status_code == 200


@pytest.mark.parametrize(
    "header",
    ["*", 'W/"nope", {tag}', '"x,y", {tag} , "z"', "{bare}", ", , {tag}"],
    ids=["star", "list", "comma-inside-tag", "strong-form", "empty-elements"],
)
def test_star_and_lists_of_tags_match_by_weak_comparison(club: Any, header: str) -> None:
    book_id, who, _ = club
    etag = fetch(who["red"], book_id, "/entries").headers["etag"]
    value = header.format(tag=etag, bare=etag.removeprefix("W/"))

    assert fetch(who["red"], book_id, "/entries", value).status_code == 304


@pytest.mark.parametrize("header", ['W/"nope"', "garbage", '"unterminated', ""])
def test_a_tag_that_names_no_current_copy_is_answered_in_full(club: Any, header: str) -> None:
    book_id, who, _ = club

    response = fetch(who["red"], book_id, "/entries", header)

    assert response.status_code == 200
    assert len(response.json()["entries"]) == 3  # the owner, red and its mate


@pytest.mark.parametrize("path", FETCHES)
def test_a_non_member_gets_the_same_404_with_or_without_a_tag(
    club: Any, path: str, people: Any
) -> None:
    book_id, who, _ = club
    stranger = people("+8613700140098", "Sam")
    plain = fetch(stranger, book_id, path)
    starred = fetch(stranger, book_id, path, "*")
    tagged = fetch(stranger, book_id, path, fetch(who["red"], book_id, path).headers["etag"])

    assert plain.status_code == starred.status_code == tagged.status_code == 404
    assert plain.json() == starred.json() == tagged.json()


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL the app sends, from the moment the list is cleared."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", FETCHES)
def test_a_304_reads_no_entry_but_the_callers_own(
    club: Any, path: str, statements: list[str]
) -> None:
    book_id, who, entry_ids = club
    etag = fetch(who["red"], book_id, path).headers["etag"]
    statements.clear()

    assert fetch(who["red"], book_id, path, etag).status_code == 304

    from_entries = [s for s in statements if " from entries" in s]
    assert len(from_entries) == 1, from_entries
    assert "entries.account_id =" in from_entries[0]
    # The same check sees the full read of a changed book (its new rows read, not kept
    # ones): it can fail.
    rename(who, book_id, entry_ids)
    statements.clear()
    assert fetch(who["red"], book_id, path).status_code == 200
    assert len([s for s in statements if " from entries" in s]) > 1


def rename(who: dict[str, Person], book_id: str, entry_ids: dict[str, str]) -> None:
    """A change every member of the club sees: red's mate renames itself."""
    url = f"/v1/books/{book_id}/entries/{entry_ids[RED_MATE]}"
    assert who["mate"].patch(url, json={"name": "Ria II"}).status_code == 200


def query_body(*props: str) -> str:
    wanted = "".join(f"<{p}/>" for p in props or ("d:getetag",))
    return f"<c:addressbook-query {DECLARE}><d:prop>{wanted}</d:prop></c:addressbook-query>"


WHOLE_REPORTS = {"initial sync": sync_body(), "query": query_body("d:getetag", "c:address-data")}


def dav_report(user: DavUser, book_id: str, body: str, tag: str | None = None) -> Any:
    headers = {"If-None-Match": tag} if tag is not None else {}
    return user.request("REPORT", user.book(book_id), body, headers=headers)


@pytest.mark.parametrize("body", WHOLE_REPORTS.values(), ids=WHOLE_REPORTS.keys())
def test_a_whole_collection_report_is_refused_412_while_the_copy_is_current(
    club: Any, body: str, people: Any
) -> None:
    book_id, who, entry_ids = club
    red = dav_user(who["red"])
    first = dav_report(red, book_id, body)
    assert first.status_code == 207
    etag = first.headers["etag"]

    current = dav_report(red, book_id, body, etag)
    assert (current.status_code, current.content, current.headers["etag"]) == (412, b"", etag)
    # A change red cannot see (blue renamed) leaves its copy current.
    hidden = who["owner"].patch(
        f"/v1/books/{book_id}/entries/{entry_ids[BLUE]}", json={"name": "Bo II"}
    )
    assert hidden.status_code == 200
    assert dav_report(red, book_id, body, etag).status_code == 412
    # One it can see answers in full, with a new tag.
    seen = who["owner"].patch(
        f"/v1/books/{book_id}/entries/{entry_ids[RED_MATE]}", json={"name": "Ria II"}
    )
    assert seen.status_code == 200
    after = dav_report(red, book_id, body, etag)
    assert after.status_code == 207
    assert after.headers["etag"] != etag
    assert len(parse_multistatus(after).answers) == 3


def test_each_report_and_each_member_has_its_own_tag_and_a_delta_has_none(club: Any) -> None:
    book_id, who, _ = club
    red, mate = dav_user(who["red"]), dav_user(who["mate"])
    tags = {
        "sync": dav_report(red, book_id, sync_body()).headers["etag"],
        "query": dav_report(red, book_id, query_body()).headers["etag"],
        "query, more props": dav_report(
            red, book_id, query_body("d:getetag", "c:address-data")
        ).headers["etag"],
        "mate's sync": dav_report(mate, book_id, sync_body()).headers["etag"],
    }
    delta = red.sync(book_id, red.sync(book_id).sync_token or "")

    assert len(set(tags.values())) == len(tags)
    assert dav_report(red, book_id, query_body(), tags["sync"]).status_code == 207
    token = red.sync(book_id).sync_token or ""
    with_token = dav_report(red, book_id, sync_body(token), tags["sync"])
    assert with_token.status_code == 207
    assert "etag" not in with_token.headers
    assert delta.answers == {}


def test_a_412_reads_no_entry_but_the_callers_own(club: Any, statements: list[str]) -> None:
    book_id, who, entry_ids = club
    red = dav_user(who["red"])
    etag = dav_report(red, book_id, query_body()).headers["etag"]
    statements.clear()

    assert dav_report(red, book_id, query_body(), etag).status_code == 412

    # The member's own entry, or none where its place in the book was read within the
    # second (dav.resources.resolve).
    from_entries = [s for s in statements if " from entries" in s]
    assert len(from_entries) <= 1, from_entries
    assert all("entries.account_id =" in s for s in from_entries), from_entries
    # The same check sees the full read of a changed book: it can fail.
    rename(who, book_id, entry_ids)
    statements.clear()
    assert dav_report(red, book_id, query_body()).status_code == 207
    assert len([s for s in statements if " from entries" in s]) > 1
