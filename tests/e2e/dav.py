"""A CardDAV client for the in-process tests: Basic auth with an app password, XML in and out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as SafeET
import httpx

from tests.conftest import Person

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:carddav}"
DECLARE = (
    'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav" '
    'xmlns:cs="http://calendarserver.org/ns/"'
)


@dataclass
class Answer:
    """One DAV:response: its status, or its properties by status."""

    href: str
    status: int | None = None
    props: dict[str, ET.Element] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)

    def text(self, name: str) -> str:
        return self.props[name].text or ""


@dataclass
class Multistatus:
    answers: dict[str, Answer]
    sync_token: str | None


def parse_multistatus(response: httpx.Response) -> Multistatus:
    assert response.status_code == 207, (response.status_code, response.text)
    root = SafeET.fromstring(response.content)
    answers = {}
    for node in root.findall(f"{D}response"):
        answer = Answer(node.findtext(f"{D}href") or "")
        status = node.findtext(f"{D}status")
        if status:
            answer.status = int(status.split()[1])
        for propstat in node.findall(f"{D}propstat"):
            code = int((propstat.findtext(f"{D}status") or "").split()[1])
            for prop in propstat.find(f"{D}prop") or []:
                if code == 200:
                    answer.props[prop.tag] = prop
                else:
                    answer.missing.add(prop.tag)
        answers[answer.href] = answer
    return Multistatus(answers, root.findtext(f"{D}sync-token"))


def propfind_body(*props: str) -> str:
    return (
        f"<d:propfind {DECLARE}><d:prop>{''.join(f'<{p}/>' for p in props)}</d:prop></d:propfind>"
    )


def sync_body(token: str = "", *props: str) -> str:
    wanted = "".join(f"<{p}/>" for p in props or ("d:getetag",))
    return (
        f"<d:sync-collection {DECLARE}><d:sync-token>{token}</d:sync-token>"
        f"<d:sync-level>1</d:sync-level><d:prop>{wanted}</d:prop></d:sync-collection>"
    )


@dataclass
class DavUser:
    """A signed-in person who made an app password and now speaks CardDAV."""

    person: Person
    password: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.person.phone, self.password)

    @property
    def account_id(self) -> str:
        return str(self.person.account["id"])

    @property
    def home(self) -> str:
        return f"/dav/addressbooks/{self.account_id}/"

    def book(self, book_id: str) -> str:
        return f"{self.home}{book_id}/"

    def request(
        self, method: str, path: str, body: str = "", depth: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if depth is not None:
            headers["Depth"] = depth
        if body:
            headers["Content-Type"] = "application/xml; charset=utf-8"
        return self.person.client.request(
            method,
            path,
            content=body.encode(),
            headers=headers,
            auth=kw.pop("auth", self.auth),
            **kw,
        )

    def propfind(self, path: str, *props: str, depth: str = "0") -> Multistatus:
        return parse_multistatus(self.request("PROPFIND", path, propfind_body(*props), depth))

    def sync(self, book_id: str, token: str = "", *props: str) -> Multistatus:
        return parse_multistatus(
            self.request("REPORT", self.book(book_id), sync_body(token, *props))
        )

    def cards(self, book_id: str) -> dict[str, str]:
        """FN of every card in the book, by href, read through PROPFIND and GET."""
        listing = self.propfind(self.book(book_id), "d:getetag", depth="1")
        names = {}
        for href in listing.answers:
            if href.endswith(".vcf"):
                card = self.request("GET", href)
                assert card.status_code == 200, card.text
                names[href] = fn_of(card.text)
        return names


def fn_of(vcard: str) -> str:
    for line in vcard.splitlines():
        if line.startswith("FN:"):
            return line.removeprefix("FN:")
    raise AssertionError(f"no FN in {vcard!r}")


def dav_user(person: Person, label: str = "phone") -> DavUser:
    response = person.post("/v1/app-passwords", json={"label": label})
    assert response.status_code == 201, response.text
    return DavUser(person, response.json()["password"])


def book_with(
    owner: Person, title: str, members: list[tuple[Person, list[str]]]
) -> tuple[str, dict[str, str]]:
    """A book `owner` made with each member invited with its tags, and accepted.

    Returns the book id and every entry id (the owner's too) by phone.
    """
    invitees = [
        {"phone": p.phone, "name": p.account["name"] or None, "tags": tags} for p, tags in members
    ]
    created = owner.post("/v1/books", json={"title": title, "invitees": invitees})
    assert created.status_code == 201, created.text
    book_id = created.json()["id"]
    entry_ids = {p.phone: p.accept(book_id)["entry_id"] for p, _ in members}
    mine = [e["id"] for e in owner.entries(book_id)["entries"] if e["phone"] == owner.phone]
    entry_ids[owner.phone] = mine[0]
    return book_id, entry_ids


# The club both sync suites use: Olivia owns it, Ann and Bo share `team`, Cy holds `other`.
OWNER, ANN, BO, CY = "+8613700137001", "+8613700137002", "+8613700137003", "+8613700137004"


def club_with(people: Any) -> dict[str, Any]:
    """Olivia's book with Ann, Bo and Cy in it: the people, the book id and every entry id."""
    owner, ann, bo, cy = (
        people(OWNER, "Olivia"),
        people(ANN, "Ann"),
        people(BO, "Bo"),
        people(CY, "Cy"),
    )
    book_id, ids = book_with(owner, "Club", [(ann, ["team"]), (bo, ["team"]), (cy, ["other"])])
    return {"owner": owner, "ann": ann, "bo": bo, "cy": cy, "book": book_id, "ids": ids}
