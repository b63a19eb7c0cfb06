"""The DAV layer's pure parts: the throttle, Basic credentials, filters, XML, its imports."""

from __future__ import annotations

import ast
import base64
from pathlib import Path

import pytest

import circlebook.dav
from circlebook.dav.auth import FailureThrottle, basic_credentials
from circlebook.dav.errors import DavError
from circlebook.dav.filters import CardFilter, card_properties, parse_filter
from circlebook.dav.xml import MalformedXmlError, element, href, parse
from circlebook.services.entries import VisibleEntry
from circlebook.services.vcards import vcard

CARD = vcard(VisibleEntry("e_abcdefgh1234", "+8613800138000", "Li, Lei", [], "member", "", ""))
NS = 'xmlns:c="urn:ietf:params:xml:ns:carddav"'


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_credentials() -> None:
    assert basic_credentials(basic("+8613800138000:pass:word")) == ("+8613800138000", "pass:word")
    for bad in (
        None,
        "",
        "Bearer x",
        "Basic !!!",
        basic("nocolon"),
        basic(":pw"),
        basic("u:"),
        "Basic " + "A" * 1000,
    ):
        assert basic_credentials(bad) is None, bad


def test_the_throttle_counts_per_key_within_the_window() -> None:
    throttle = FailureThrottle(limit=2, window=60)
    throttle.failed(["a", "x"], now=0)
    assert throttle.retry_after(["a"], now=1) is None
    throttle.failed(["a", "y"], now=10)
    assert throttle.retry_after(["a"], now=11) == 49
    assert throttle.retry_after(["x", "y"], now=11) is None
    assert throttle.retry_after(["a"], now=61) is None  # the first failure has aged out


def test_a_throttle_of_zero_never_waits() -> None:
    throttle = FailureThrottle(limit=0, window=60)
    for n in range(100):
        throttle.failed(["a"], now=n)
    assert throttle.retry_after(["a"], now=100) is None


def test_xml_with_a_dtd_is_refused_before_it_is_expanded() -> None:
    with pytest.raises(MalformedXmlError):
        parse(b'<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    assert parse(b"  ") is None


def test_elements_of_unknown_namespaces_declare_them() -> None:
    assert element("{DAV:}getetag", '"1"') == '<d:getetag>"1"</d:getetag>'
    assert element("{urn:x}foo") == '<x:foo xmlns:x="urn:x"/>'
    assert element("bare") == '<bare xmlns=""/>'


def test_hrefs_are_percent_encoded_and_escaped() -> None:
    assert href("/dav/a_x-y/b_z/e_1.vcf") == "<d:href>/dav/a_x-y/b_z/e_1.vcf</d:href>"
    assert href("/dav/a b/<x>&/é") == "<d:href>/dav/a%20b/%3Cx%3E&amp;/%C3%A9</d:href>"


def test_card_properties_unfold_and_unescape() -> None:
    props = card_properties(CARD)
    assert props["FN"] == [({}, "Li, Lei")]
    assert props["TEL"] == [({"TYPE": ["CELL"]}, "+8613800138000")]
    grouped = card_properties("BEGIN:VCARD\r\nitem1.EMAIL;TYPE=a,b:x@y\r\n  z\r\nEND:VCARD\r\n")
    assert grouped["EMAIL"] == [({"TYPE": ["a", "b"]}, "x@y z")]


def _filter(xml: str) -> CardFilter:
    node = parse(f"<c:filter {NS}>{xml}</c:filter>".encode())
    return parse_filter(node)


def test_text_match_collations() -> None:
    match = (
        '<c:prop-filter name="FN"><c:text-match collation="{}">'
        "LI, LEI</c:text-match></c:prop-filter>"
    )
    assert _filter(match.format("i;unicode-casemap")).matches(CARD)
    assert _filter(match.format("i;ascii-casemap")).matches(CARD)
    assert not _filter(match.format("i;octet")).matches(CARD)
    with pytest.raises(DavError):
        _filter(match.format("i;nope"))


def test_the_dav_layer_does_not_reach_past_the_services() -> None:
    package = Path(circlebook.dav.__file__).parent
    imported = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    outer = ("storage", "api", "web", "sms", "app", "settings", "client", "serving", "notify")
    assert not [m for m in imported if m.startswith(tuple(f"circlebook.{o}" for o in outer))]
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    assert max(sizes.values()) < 400, sizes
