"""vCard 4.0 for the clients that ask for it, and limits on reports, over real HTTP.

A real `circlebook serve` on loopback: GET with Accept, REPORTs naming the version
in CARDDAV:address-data, the conversion precondition for anything else, nresults on
addressbook-query and sync-collection (RFC 6352 5.1.1, 8.6, 8.7; RFC 6578 3.6, 3.7),
and the export file in either version.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as SafeET
import httpx
import pytest
import vobject

from circlebook.client import Client, Invitee
from tests.e2e.dav import DECLARE, C, D, Multistatus, parse_multistatus, sync_body
from tests.e2e.live import CIRCLEBOOK, Server, live_server
from tests.e2e.test_server_process import clean_env

OWNER, ANN, BO, CY = (f"+861580015800{n}" for n in range(1, 5))
NAMES = {OWNER: "Olivia", ANN: "Ann", BO: "Bo", CY: "Cy"}
CONVERSION = f"{C}supported-address-data-conversion"
WITHIN_LIMITS = f"{D}number-of-matches-within-limits"
VCARD_4 = 'content-type="text/vcard" version="4.0"'


@dataclass
class Club:
    server: Server
    owner: Client
    book_id: str
    entries: dict[str, str]  # entry id by phone, the owner's too
    dav: httpx.Client  # Ann's CardDAV client, signed in with an app password
    ann_id: str

    @property
    def book(self) -> str:
        return f"/dav/addressbooks/{self.ann_id}/{self.book_id}/"

    def card(self, phone: str) -> str:
        return f"{self.book}{self.entries[phone]}.vcf"

    def report(self, body: str, **headers: str) -> httpx.Response:
        return self.dav.request(
            "REPORT",
            self.book,
            content=body.encode(),
            headers={"Content-Type": "application/xml; charset=utf-8", "Depth": "1", **headers},
        )


def _signed_in(server: Server, phone: str, name: str) -> Client:
    client = Client(server.url)
    before = len(server.texts_to(phone))
    client.request_code(phone)
    client.sign_in(phone, server.code_for(phone, after=before), "test", name=name)
    return client


@pytest.fixture(scope="module")
def club(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Club]:
    """Olivia's book, where Ann, Bo and Cy all hold `team`: Ann sees four cards."""
    workdir = tmp_path_factory.mktemp("vcard4")
    with live_server(workdir) as server:
        owner = _signed_in(server, OWNER, NAMES[OWNER])
        people = {p: _signed_in(server, p, NAMES[p]) for p in (ANN, BO, CY)}
        invitees = [Invitee(p, c.me().name or "", ("team",)) for p, c in people.items()]
        book = owner.create_book("Club", invitees).book
        entries = {p: c.accept(c.inbox()[0].id).entry_id for p, c in people.items()}
        entries[OWNER] = next(e.id for e in owner.entries(book.id).entries if e.phone == OWNER)
        ann = people[ANN]
        password = ann.create_app_password("phone").password
        ann_id = ann.me().id
        for client in people.values():
            client.close()
        with httpx.Client(base_url=server.url, auth=(ANN, password), timeout=10) as dav:
            yield Club(server, owner, book.id, entries, dav, ann_id)
        owner.close()


def _error(response: httpx.Response) -> set[str]:
    return {child.tag for child in SafeET.fromstring(response.content)}


def test_a_book_offers_vcard_3_and_4(club: Club) -> None:
    body = f"<d:propfind {DECLARE}><d:prop><c:supported-address-data/></d:prop></d:propfind>"
    found = parse_multistatus(club.dav.request("PROPFIND", club.book, content=body))

    offered = found.answers[club.book].props[f"{C}supported-address-data"]
    kinds = {(t.get("content-type"), t.get("version")) for t in offered}
    assert kinds == {("text/vcard", "3.0"), ("text/vcard", "4.0")}


def test_get_serves_vcard_3_unless_accept_asks_for_4(club: Club) -> None:
    plain = club.dav.get(club.card(BO))
    four = club.dav.get(club.card(BO), headers={"Accept": "text/vcard;version=4.0"})

    assert plain.status_code == four.status_code == 200
    assert "VERSION:3.0\r\n" in plain.text and "TEL;TYPE=CELL:" + BO in plain.text
    card = vobject.readOne(four.text)
    assert card.version.value == "4.0"
    assert card.fn.value == "Bo"
    assert card.uid.value == f"{club.entries[BO]}@circlebook"
    assert f"TEL;VALUE=uri;TYPE=cell:tel:{BO}\r\n" in four.text
    assert plain.headers["ETag"] != four.headers["ETag"]
    assert "Accept" in four.headers["Vary"]


def test_a_4_0_etag_never_matches_the_3_0_card(club: Club) -> None:
    four = club.dav.get(club.card(BO), headers={"Accept": "text/vcard;version=4.0"})
    three_tag = club.dav.get(club.card(BO)).headers["ETag"]

    again = club.dav.get(
        club.card(BO), headers={"Accept": "text/vcard;version=4.0", "If-None-Match": three_tag}
    )
    current = club.dav.get(
        club.card(BO),
        headers={"Accept": "text/vcard;version=4.0", "If-None-Match": four.headers["ETag"]},
    )

    assert again.status_code == 200
    assert current.status_code == 304


def test_accept_with_3_0_first_or_any_type_gets_3_0(club: Club) -> None:
    for accept in ("text/vcard;version=3.0, text/vcard;version=4.0;q=0.5", "*/*", "text/vcard"):
        got = club.dav.get(club.card(BO), headers={"Accept": accept})
        assert "VERSION:3.0" in got.text, accept


@pytest.mark.parametrize("accept", ["text/vcard;version=2.1", "application/vcard+json"])
def test_get_in_a_version_not_served_fails_the_conversion_precondition(
    club: Club, accept: str
) -> None:
    refused = club.dav.get(club.card(BO), headers={"Accept": accept})

    assert refused.status_code == 403
    assert _error(refused) == {CONVERSION}


def _multiget(club: Club, address_data: str, *phones: str) -> str:
    hrefs = "".join(f"<d:href>{club.card(p)}</d:href>" for p in phones)
    return (
        f"<c:addressbook-multiget {DECLARE}><d:prop><d:getetag/>{address_data}</d:prop>"
        f"{hrefs}</c:addressbook-multiget>"
    )


def test_multiget_asking_for_4_0_gets_4_0_cards_with_their_own_etags(club: Club) -> None:
    four = parse_multistatus(club.report(_multiget(club, f"<c:address-data {VCARD_4}/>", BO, CY)))
    three = parse_multistatus(club.report(_multiget(club, "<c:address-data/>", BO)))

    for phone in (BO, CY):
        answer = four.answers[club.card(phone)]
        card = answer.text(f"{C}address-data")
        assert vobject.readOne(card).version.value == "4.0"
        assert f"TEL;VALUE=uri;TYPE=cell:tel:{phone}" in card
        got = club.dav.get(club.card(phone), headers={"Accept": "text/vcard;version=4.0"})
        assert answer.text(f"{D}getetag") == got.headers["ETag"]
    bo_three = three.answers[club.card(BO)]
    assert "VERSION:3.0" in bo_three.text(f"{C}address-data")
    assert bo_three.text(f"{D}getetag") != four.answers[club.card(BO)].text(f"{D}getetag")


def test_query_and_sync_asking_for_4_0_get_4_0_cards(club: Club) -> None:
    query = (
        f"<c:addressbook-query {DECLARE}><d:prop><d:getetag/><c:address-data {VCARD_4}/>"
        "</d:prop></c:addressbook-query>"
    )
    synced = sync_body("", "d:getetag", f"c:address-data {VCARD_4}")

    for body in (query, synced):
        answers = parse_multistatus(club.report(body)).answers
        cards = [a.text(f"{C}address-data") for a in answers.values() if a.props]
        assert len(cards) == 4
        assert {vobject.readOne(card).version.value for card in cards} == {"4.0"}


@pytest.mark.parametrize(
    "address_data",
    [
        '<c:address-data content-type="text/vcard" version="2.1"/>',
        '<c:address-data content-type="application/vcard+json"/>',
    ],
)
def test_a_report_in_a_format_not_served_fails_the_conversion_precondition(
    club: Club, address_data: str
) -> None:
    refused = club.report(_multiget(club, address_data, BO))

    assert refused.status_code == 403
    assert _error(refused) == {CONVERSION}


def _truncated(answer: Multistatus, collection: str) -> bool:
    marker = answer.answers.get(collection)
    return marker is not None and marker.status == 507


def test_addressbook_query_with_nresults_sends_that_many_and_says_it_truncated(
    club: Club,
) -> None:
    body = (
        f"<c:addressbook-query {DECLARE}><d:prop><d:getetag/></d:prop>"
        "<c:limit><c:nresults>2</c:nresults></c:limit></c:addressbook-query>"
    )
    response = club.report(body)
    answer = parse_multistatus(response)

    cards = [href for href in answer.answers if href.endswith(".vcf")]
    assert len(cards) == 2
    assert _truncated(answer, club.book)
    root = SafeET.fromstring(response.content)
    marker = next(r for r in root.findall(f"{D}response") if r.findtext(f"{D}href") == club.book)
    assert marker.find(f"{D}error/{WITHIN_LIMITS}") is not None


def _limited_sync(club: Club, token: str, nresults: int) -> Multistatus:
    body = sync_body(token, "d:getetag", "c:address-data").replace(
        "</d:sync-collection>",
        f"<d:limit><d:nresults>{nresults}</d:nresults></d:limit></d:sync-collection>",
    )
    return parse_multistatus(club.report(body))


def test_sync_collection_with_a_limit_pages_through_every_change(club: Club) -> None:
    first = _limited_sync(club, "", 3)
    # Between two pages the owner renames a card Ann already has: the next page sends it.
    sent = sorted(h for h in first.answers if h.endswith(".vcf"))
    renamed = next(p for p in (OWNER, ANN, BO, CY) if club.card(p) == sent[0])
    club.owner.update_entry(club.book_id, club.entries[renamed], name="Renamed")
    try:
        second = _limited_sync(club, first.sync_token or "", 3)
        last = _limited_sync(club, second.sync_token or "", 3)
    finally:
        club.owner.update_entry(club.book_id, club.entries[renamed], name=NAMES[renamed])

    assert len(sent) == 3 and _truncated(first, club.book)
    got = {h: a.text(f"{C}address-data") for h, a in second.answers.items() if h.endswith(".vcf")}
    assert not _truncated(second, club.book)
    assert set(got) == {club.card(p) for p in (OWNER, ANN, BO, CY)} - set(sent[1:])
    assert "FN:Renamed" in got[club.card(renamed)]
    assert last.answers == {}
    assert last.sync_token == second.sync_token


def test_sync_collection_without_a_limit_is_whole(club: Club) -> None:
    answer = _limited_sync(club, "", 10)

    assert len(answer.answers) == 4
    assert not _truncated(answer, club.book)


def test_the_export_file_comes_in_either_version_with_its_own_etag(club: Club) -> None:
    path = f"/v1/books/{club.book_id}/export.vcf"
    headers = {"Authorization": f"Bearer {club.owner.token}"}
    three = club.server.http.get(path, headers=headers)
    four = club.server.http.get(path, params={"version": "4.0"}, headers=headers)
    wrong = club.server.http.get(path, params={"version": "2.1"}, headers=headers)

    assert [c.version.value for c in vobject.readComponents(three.text)] == ["3.0"] * 4
    assert [c.version.value for c in vobject.readComponents(four.text)] == ["4.0"] * 4
    assert three.headers["ETag"] != four.headers["ETag"]
    not_modified = club.server.http.get(
        path, params={"version": "4.0"}, headers={**headers, "If-None-Match": four.headers["ETag"]}
    )
    assert not_modified.status_code == 304
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")


def test_the_terminal_exports_vcard_4_0(club: Club, tmp_path: Path) -> None:
    env = clean_env(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        CIRCLEBOOK_SERVER=club.server.url,
    )
    code = club.server.send_code(OWNER)
    subprocess.run([*CIRCLEBOOK, "login", OWNER, "--code", code], env=env, check=True, timeout=30)
    out = tmp_path / "club.vcf"
    subprocess.run(
        [
            *CIRCLEBOOK,
            "export",
            "Club",
            "-o",
            str(out),
            "--format",
            "vcf",
            "--vcard-version",
            "4.0",
        ],
        env=env,
        check=True,
        timeout=30,
        capture_output=True,
    )

    cards = list(vobject.readComponents(out.read_text()))
    assert len(cards) == 4
    assert {c.version.value for c in cards} == {"4.0"}
    assert {c.fn.value for c in cards} == {"Olivia", "Ann", "Bo", "Cy"}
