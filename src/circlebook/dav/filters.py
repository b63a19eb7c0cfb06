"""The CARDDAV:filter of an addressbook-query, and whether a vCard matches it (RFC 6352 10.5).

Cards are matched on their text, as any vCard would be, so a filter sees
exactly the properties a client downloads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from circlebook.dav.errors import SUPPORTED_COLLATION, SUPPORTED_FILTER, DavError
from circlebook.dav.xml import carddav

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# RFC 6352 section 8.3: i;unicode-casemap is the default; all three must be supported.
_COLLATIONS: dict[str, Callable[[str], str]] = {
    "i;unicode-casemap": str.casefold,
    "i;ascii-casemap": lambda value: value.translate(_ASCII_LOWER),
    "i;octet": lambda value: value,
}
_MATCHES: dict[str, Callable[[str, str], bool]] = {
    "equals": lambda value, wanted: value == wanted,
    "contains": lambda value, wanted: wanted in value,
    "starts-with": str.startswith,
    "ends-with": str.endswith,
}

Params = dict[str, list[str]]
CardProperties = dict[str, list[tuple[Params, str]]]


def _unsupported(what: str) -> DavError:
    return DavError(403, f"this filter is not supported: {what}", condition=SUPPORTED_FILTER)


@dataclass(frozen=True, slots=True)
class TextMatch:
    """CARDDAV:text-match (RFC 6352 section 10.5.4)."""

    wanted: str
    fold: Callable[[str], str]
    match: Callable[[str, str], bool]
    negate: bool

    def matches(self, value: str) -> bool:
        return self.match(self.fold(value), self.fold(self.wanted)) != self.negate


@dataclass(frozen=True, slots=True)
class ParamFilter:
    """CARDDAV:param-filter (RFC 6352 section 10.5.2)."""

    name: str
    undefined: bool
    text: TextMatch | None

    def matches(self, params: Params) -> bool:
        values = params.get(self.name)
        if self.undefined or values is None:
            return self.undefined and values is None
        return self.text is None or any(self.text.matches(v) for v in values)


@dataclass(frozen=True, slots=True)
class PropFilter:
    """CARDDAV:prop-filter (RFC 6352 section 10.5.1)."""

    name: str
    undefined: bool
    every: bool
    tests: tuple[TextMatch | ParamFilter, ...]

    def matches(self, card: CardProperties) -> bool:
        instances = card.get(self.name, [])
        if self.undefined:
            return not instances
        return any(self._instance_matches(params, value) for params, value in instances)

    def _instance_matches(self, params: Params, value: str) -> bool:
        if not self.tests:
            return True
        results = (
            test.matches(value) if isinstance(test, TextMatch) else test.matches(params)
            for test in self.tests
        )
        return all(results) if self.every else any(results)


@dataclass(frozen=True, slots=True)
class CardFilter:
    """CARDDAV:filter: its prop-filters, all or any of which must match (RFC 6352 10.5)."""

    every: bool
    props: tuple[PropFilter, ...]

    @property
    def takes_all(self) -> bool:
        """No prop-filter: every card matches, and none needs writing to tell."""
        return not self.props

    def matches(self, vcard: str) -> bool:
        if not self.props:
            return True
        card = card_properties(vcard)
        results = (prop.matches(card) for prop in self.props)
        return all(results) if self.every else any(results)


def _test(node: Element) -> bool:
    """True for test="allof"; anyof is the default."""
    test = node.get("test", "anyof")
    if test not in ("anyof", "allof"):
        raise _unsupported(f'test="{test}"')
    return test == "allof"


def _text_match(node: Element) -> TextMatch:
    collation = node.get("collation", "i;unicode-casemap")
    if collation not in _COLLATIONS:
        raise DavError(403, f"unknown collation {collation}", condition=SUPPORTED_COLLATION)
    match_type = node.get("match-type", "contains")
    if match_type not in _MATCHES:
        raise _unsupported(f'match-type="{match_type}"')
    negate = node.get("negate-condition", "no") == "yes"
    return TextMatch(node.text or "", _COLLATIONS[collation], _MATCHES[match_type], negate)


def _param_filter(node: Element) -> ParamFilter:
    name = node.get("name", "").upper()
    undefined = node.find(carddav("is-not-defined")) is not None
    found = node.find(carddav("text-match"))
    return ParamFilter(name, undefined, None if found is None else _text_match(found))


def _prop_filter(node: Element) -> PropFilter:
    name = node.get("name", "").upper()
    if not name:
        raise _unsupported("a prop-filter without a name")
    tests: list[TextMatch | ParamFilter] = []
    undefined = False
    for child in node:
        if child.tag == carddav("is-not-defined"):
            undefined = True
        elif child.tag == carddav("text-match"):
            tests.append(_text_match(child))
        elif child.tag == carddav("param-filter"):
            tests.append(_param_filter(child))
        else:
            raise _unsupported(child.tag)
    return PropFilter(name, undefined, _test(node), tuple(tests))


def parse_filter(node: Element | None) -> CardFilter:
    """The filter of a query; no filter (or an empty one) matches every card."""
    if node is None:
        return CardFilter(False, ())
    props = []
    for child in node:
        if child.tag != carddav("prop-filter"):
            raise _unsupported(child.tag)
        props.append(_prop_filter(child))
    return CardFilter(_test(node), tuple(props))


def _unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append("\n" if nxt in ("n", "N") else nxt)
        else:
            out.append(ch)
    return "".join(out)


def card_properties(vcard: str) -> CardProperties:
    """A vCard's properties by upper-case name: each instance's parameters and text value."""
    unfolded = vcard.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "")
    found: CardProperties = {}
    for line in unfolded.splitlines():
        head, colon, value = line.partition(":")
        if not colon:
            continue
        name, *raw_params = head.split(";")
        params: Params = {}
        for raw in raw_params:
            key, _, values = raw.partition("=")
            params.setdefault(key.upper(), []).extend(values.split(","))
        name = name.rpartition(".")[2].upper()  # drop a group prefix, as in item1.TEL
        found.setdefault(name, []).append((params, _unescape(value)))
    return found
