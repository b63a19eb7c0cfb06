"""CardDAV as a contacts app finds and reads it: discovery (RFC 6764, RFC 6352 section 7),
each book's properties, cards, multiget and query REPORTs, and writes refused."""

from __future__ import annotations

from typing import Any

import pytest
import vobject
from fastapi.testclient import TestClient

from circlebook.dav import reports
from tests.e2e.dav import C, D, DavUser, book_with, dav_user, fn_of, parse_multistatus

OWNER, ANN, BO, CY = (f"+861380013800{n}" for n in range(1, 5))
CS = "{http://calendarserver.org/ns/}"


@pytest.fixture
def world(people: Any) -> dict[str, Any]:
    """Two books of Olivia's: in "Class & co" Ann and Bo share `team` and Cy holds `other`;
    "Chess" holds Ann only. Ann and Olivia made app passwords."""
    owner = people(OWNER, "Olivia")
    ann, bo, cy = people(ANN, "Ann"), people(BO, "Bo, Jr; the \\ second"), people(CY, "Cy")
    klass, ids = book_with(owner, "Class & co", [(ann, ["team"]), (bo, ["team"]), (cy, ["other"])])
    chess, _ = book_with(owner, "Chess", [(ann, [])])
    return {
        "ann": dav_user(ann),
        "owner": dav_user(owner),
        "class": klass,
        "chess": chess,
        "ids": ids,
    }


def test_well_known_carddav_redirects_to_the_dav_root(client: TestClient) -> None:
    for method in ("GET", "PROPFIND"):
        response = client.request(method, "/.well-known/carddav", follow_redirects=False)
        assert response.status_code == 301
        assert response.headers["location"] == "/dav/"
    response = client.request("PROPFIND", "/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (301, "/dav/")


def test_discovery_leads_from_the_root_to_each_book_by_title(world: dict[str, Any]) -> None:
    ann: DavUser = world["ann"]
    root = ann.propfind("/dav/", "d:current-user-principal").answers["/dav/"]
    principal = root.props[f"{D}current-user-principal"].findtext(f"{D}href")
    assert principal == f"/dav/principals/{ann.account_id}/"

    found = ann.propfind(principal, "c:addressbook-home-set", "d:displayname").answers[principal]
    home = found.props[f"{C}addressbook-home-set"].findtext(f"{D}href")
    assert home == ann.home
    assert found.text(f"{D}displayname") == "Ann"

    listing = ann.propfind(home, "d:resourcetype", "d:displayname", depth="1").answers
    books = {
        href: answer.text(f"{D}displayname")
        for href, answer in listing.items()
        if answer.props[f"{D}resourcetype"].find(f"{C}addressbook") is not None
    }
    assert books == {ann.book(world["class"]): "Class & co", ann.book(world["chess"]): "Chess"}


def test_a_book_describes_itself_and_lists_its_cards_with_etags(world: dict[str, Any]) -> None:
    ann: DavUser = world["ann"]
    path = ann.book(world["class"])
    props = (
        "d:resourcetype",
        "d:displayname",
        "cs:getctag",
        "d:sync-token",
        "d:getetag",
        "c:supported-address-data",
        "d:supported-report-set",
        "d:current-user-privilege-set",
        "d:getcontenttype",
    )
    answers = ann.propfind(path, *props, depth="1").answers
    book = answers.pop(path)
    kinds = {child.tag for child in book.props[f"{D}resourcetype"]}
    assert kinds == {f"{D}collection", f"{C}addressbook"}
    assert book.text(f"{D}displayname") == "Class & co"
    assert book.text(f"{CS}getctag") and book.text(f"{D}sync-token")
    data = book.props[f"{C}supported-address-data"].find(f"{C}address-data-type")
    assert data is not None and (data.get("content-type"), data.get("version")) == (
        "text/vcard",
        "3.0",
    )
    reports = {
        r.tag
        for r in book.props[f"{D}supported-report-set"].iter()
        if r.tag.endswith(("sync-collection", "addressbook-multiget", "addressbook-query"))
    }
    assert len(reports) == 3
    privileges = {p.tag for p in book.props[f"{D}current-user-privilege-set"].iter()}
    assert f"{D}read" in privileges and f"{D}write" not in privileges
    assert f"{D}getetag" in book.missing  # a collection has no ETag

    ids = world["ids"]
    assert set(answers) == {f"{path}{ids[p]}.vcf" for p in (OWNER, ANN, BO)}
    for card in answers.values():
        assert card.text(f"{D}getetag").startswith('"')
        assert card.text(f"{D}getcontenttype").startswith("text/vcard")


def test_a_card_is_vcard_3_with_a_stable_uid_and_its_etag(world: dict[str, Any]) -> None:
    ann: DavUser = world["ann"]
    href = f"{ann.book(world['class'])}{world['ids'][BO]}.vcf"
    response = ann.request("GET", href)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/vcard")
    card = vobject.readOne(response.text)
    assert card.version.value == "3.0"
    assert card.uid.value == f"{world['ids'][BO]}@circlebook"
    assert card.fn.value == "Bo, Jr; the \\ second"  # escaped on the wire, intact when read
    assert card.tel.value == BO
    etag = response.headers["etag"]
    listed = ann.propfind(href, "d:getetag").answers[href].text(f"{D}getetag")
    assert etag == listed
    assert ann.request("GET", href, headers={"If-None-Match": etag}).status_code == 304
    head = ann.request("HEAD", href)
    assert head.status_code == 200 and head.content == b""


def test_multiget_returns_the_cards_asked_for_and_404_for_the_rest(world: dict[str, Any]) -> None:
    ann: DavUser = world["ann"]
    path, ids = ann.book(world["class"]), world["ids"]
    wanted = [
        f"{path}{ids[BO]}.vcf",
        f"http://testserver{path}{ids[OWNER]}.vcf",
        f"{path}{ids[CY]}.vcf",
        f"{path}e_doesnotexist00.vcf",
    ]
    hrefs = "".join(f"<d:href>{h}</d:href>" for h in wanted)
    body = (
        '<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
        f"<d:prop><d:getetag/><c:address-data/></d:prop>{hrefs}</c:addressbook-multiget>"
    )
    answers = _multistatus(ann, path, body)
    assert fn_of(answers[f"{path}{ids[BO]}.vcf"].text(f"{C}address-data")).startswith("Bo")
    assert fn_of(answers[f"{path}{ids[OWNER]}.vcf"].text(f"{C}address-data")) == "Olivia"
    assert answers[f"{path}{ids[CY]}.vcf"].status == 404  # Cy's tag is not Ann's
    assert answers[f"{path}e_doesnotexist00.vcf"].status == 404


@pytest.mark.parametrize(
    ("filter_xml", "expected"),
    [
        ("", {OWNER, ANN, BO}),
        ("<c:filter/>", {OWNER, ANN, BO}),
        (
            '<c:filter><c:prop-filter name="FN"><c:text-match>an</c:text-match>'
            "</c:prop-filter></c:filter>",
            {ANN},
        ),
        (
            '<c:filter><c:prop-filter name="FN"><c:text-match match-type="starts-with">'
            "OLI</c:text-match></c:prop-filter></c:filter>",
            {OWNER},
        ),
        (
            '<c:filter><c:prop-filter name="FN"><c:text-match collation="i;octet">'
            "OLI</c:text-match></c:prop-filter></c:filter>",
            set(),
        ),
        (
            '<c:filter><c:prop-filter name="TEL"><c:text-match match-type="ends-with">'
            "38003</c:text-match></c:prop-filter></c:filter>",
            {BO},
        ),
        (
            '<c:filter test="anyof"><c:prop-filter name="TEL">'
            '<c:text-match match-type="ends-with">38001'
            '</c:text-match></c:prop-filter><c:prop-filter name="FN"><c:text-match>ann'
            "</c:text-match></c:prop-filter></c:filter>",
            {OWNER, ANN},
        ),
        (
            '<c:filter test="allof"><c:prop-filter name="TEL"><c:text-match>138</c:text-match>'
            '</c:prop-filter><c:prop-filter name="FN"><c:text-match negate-condition="yes">ann'
            "</c:text-match></c:prop-filter></c:filter>",
            {OWNER, BO},
        ),
        (
            '<c:filter><c:prop-filter name="EMAIL"><c:is-not-defined/></c:prop-filter></c:filter>',
            {OWNER, ANN, BO},
        ),
        (
            '<c:filter><c:prop-filter name="TEL"><c:param-filter name="TYPE"><c:text-match '
            'match-type="equals">cell</c:text-match></c:param-filter></c:prop-filter></c:filter>',
            {OWNER, ANN, BO},
        ),
    ],
    ids=[
        "no-filter",
        "empty",
        "fn-contains",
        "fn-starts-with",
        "octet",
        "tel-ends-with",
        "anyof",
        "allof-negated",
        "is-not-defined",
        "param-filter",
    ],
)
def test_query_matches_cards_by_fn_and_tel(
    world: dict[str, Any], filter_xml: str, expected: set[str]
) -> None:
    ann: DavUser = world["ann"]
    path, ids = ann.book(world["class"]), world["ids"]
    answers = _multistatus(ann, path, _query(filter_xml), depth="1")
    assert set(answers) == {f"{path}{ids[p]}.vcf" for p in expected}


def test_query_with_a_limit_says_it_was_cut_short(world: dict[str, Any]) -> None:
    ann: DavUser = world["ann"]
    path = ann.book(world["class"])
    answers = _multistatus(ann, path, _query("", "<c:limit><c:nresults>2</c:nresults></c:limit>"))
    assert answers.pop(path).status == 507
    assert len(answers) == 2


@pytest.mark.parametrize(
    "nresults", ["²", "٣", "\N{FULLWIDTH DIGIT ONE}", "-1", "+1", "two", "", "9" * 19]
)
def test_query_with_a_limit_not_in_ascii_digits_is_a_400(
    world: dict[str, Any], nresults: str
) -> None:
    ann: DavUser = world["ann"]
    limit = f"<c:limit><c:nresults>{nresults}</c:nresults></c:limit>"
    response = ann.request("REPORT", ann.book(world["class"]), _query("", limit))
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    ("filter_xml", "condition"),
    [
        (
            '<c:filter><c:prop-filter name="FN"><c:text-match collation="i;klingon">x'
            "</c:text-match></c:prop-filter></c:filter>",
            "supported-collation",
        ),
        (
            '<c:filter><c:prop-filter name="FN"><c:text-match match-type="regex">x'
            "</c:text-match></c:prop-filter></c:filter>",
            "supported-filter",
        ),
        ("<c:filter><c:comp-filter/></c:filter>", "supported-filter"),
    ],
)
def test_query_refuses_what_it_cannot_filter(
    world: dict[str, Any], filter_xml: str, condition: str
) -> None:
    ann: DavUser = world["ann"]
    response = ann.request("REPORT", ann.book(world["class"]), _query(filter_xml))
    assert response.status_code == 403
    assert condition in response.text


def test_a_report_a_resource_does_not_support_fails_its_precondition(world: dict[str, Any]) -> None:
    ann: DavUser = world["ann"]
    body = '<d:expand-property xmlns:d="DAV:"/>'
    response = ann.request("REPORT", ann.book(world["class"]), body)
    assert (response.status_code, "supported-report" in response.text) == (403, True)
    sync = '<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:prop/></d:sync-collection>'
    assert ann.request("REPORT", ann.home, sync).status_code == 403


@pytest.mark.parametrize("who", ["ann", "owner"])
@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("PUT", "card"),
        ("PUT", "new"),
        ("DELETE", "card"),
        ("DELETE", "book"),
        ("MKCOL", "newbook"),
        ("PROPPATCH", "book"),
        ("MOVE", "card"),
        ("COPY", "card"),
    ],
)
def test_books_are_read_only_for_members_and_owner(
    world: dict[str, Any], who: str, method: str, target: str
) -> None:
    user: DavUser = world[who]
    book = user.book(world["class"])
    paths = {
        "card": f"{book}{world['ids'][ANN]}.vcf",
        "new": f"{book}e_brandnewcard00.vcf",
        "book": book,
        "newbook": f"{user.home}b_brandnewbook000000/",
    }
    body = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n" if method == "PUT" else ""
    before = user.cards(world["class"])
    response = user.request(method, paths[target], body)
    assert response.status_code == 403, response.text
    assert "need-privileges" in response.text
    assert user.cards(world["class"]) == before


def test_options_advertises_carddav_without_signing_in(client: TestClient) -> None:
    response = client.options("/dav/")
    assert response.status_code == 200
    assert "addressbook" in response.headers["dav"]
    assert "PROPFIND" in response.headers["allow"]


def test_allprop_and_propname(world: dict[str, Any]) -> None:
    ann: DavUser = world["ann"]
    path = ann.book(world["class"])
    allprop = ann.request("PROPFIND", path, '<propfind xmlns="DAV:"><allprop/></propfind>', "0")
    assert allprop.status_code == 207 and "Class &amp; co" in allprop.text
    assert "404" not in allprop.text
    empty = ann.request("PROPFIND", path, "", "0")
    assert empty.status_code == 207 and "Class &amp; co" in empty.text
    names = ann.request("PROPFIND", path, '<propfind xmlns="DAV:"><propname/></propfind>', "0")
    assert "<d:displayname/>" in names.text and "Class" not in names.text


def test_dav_stays_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/app-passwords" in paths
    assert not [p for p in paths if p.startswith(("/dav", "/.well-known"))]


def _query(filter_xml: str, extra: str = "") -> str:
    return (
        '<c:addressbook-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
        f"<d:prop><d:getetag/></d:prop>{filter_xml}{extra}</c:addressbook-query>"
    )


def _multistatus(user: DavUser, path: str, body: str, depth: str | None = None) -> dict[str, Any]:
    return parse_multistatus(user.request("REPORT", path, body, depth)).answers


def test_a_value_error_left_in_the_dav_layer_is_a_400(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(body: object) -> int:
        raise ValueError("a value no check caught")

    monkeypatch.setattr(reports, "_limit", unreadable)
    ann: DavUser = world["ann"]
    response = ann.request("REPORT", ann.book(world["class"]), _query(""))
    assert response.status_code == 400, response.text
    assert "no check caught" not in response.text
