"""The cache of cards' propstats: bounded, off at 0, kept only where an answer is the card's."""

from __future__ import annotations

from circlebook.dav.card_cache import CardCache
from circlebook.dav.methods import Renderer
from circlebook.dav.resources import Card
from circlebook.dav.xml import CARDDAV, DAV, carddav, dav
from circlebook.services.entries import VisibleEntry
from circlebook.services.vcards import CardVersion

ETAG, DATA = dav("getetag"), carddav("address-data")


def a_card(name: str = "Li Lei", entry_id: str = "e_abcdefgh1234") -> Card:
    entry = VisibleEntry(entry_id, "+8613800138000", name, ["team"], "member", "", "")
    return Card(f"/dav/b/{entry_id}.vcf", "/dav/principals/a/", entry, CardVersion.V3)


def test_the_cache_keeps_at_most_its_size_dropping_the_oldest() -> None:
    cache = CardCache(2)
    for key in ("a", "b", "c"):
        cache.put(key, key.upper().encode())
    assert len(cache) == 2
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, b"B", b"C")
    cache.put("b", b"B2")  # a key already kept takes no one's place
    assert (len(cache), cache.get("b"), cache.get("c")) == (2, b"B2", b"C")


def test_a_cache_of_size_zero_keeps_nothing() -> None:
    cache = CardCache(0)
    cache.put("a", b"A")
    assert len(cache) == 0 and cache.get("a") is None


def test_a_cards_propstats_are_kept_and_read_back() -> None:
    cache = CardCache(10)
    render = Renderer([ETAG, DATA], cache)
    first = render.propstats(a_card())
    assert b"FN:Li Lei" in first and len(cache) == 1
    assert render.propstats(a_card()) is first  # the same text, not written again


def test_a_card_with_other_content_is_not_answered_with_a_kept_one() -> None:
    cache = CardCache(10)
    render = Renderer([ETAG, DATA], cache)
    render.propstats(a_card("Li Lei"))
    assert b"FN:Han Meimei" in render.propstats(a_card("Han Meimei"))
    assert len(cache) == 2


def test_only_answers_of_content_properties_asked_once_each_are_kept() -> None:
    cache = CardCache(10)
    for names in (
        [dav("current-user-principal"), ETAG],  # differs by who asks
        [ETAG, ETAG],  # a client could make each kept answer as large as it liked
        [ETAG, f"{{{DAV}}}no-such-property"],
        [f"{{{CARDDAV}}}no-such-property"],
    ):
        Renderer(names, cache).propstats(a_card())
    assert len(cache) == 0
    Renderer([dav("resourcetype"), dav("getcontenttype"), ETAG, DATA], cache).propstats(a_card())
    assert len(cache) == 1


def test_without_a_cache_the_answer_is_the_same() -> None:
    kept = Renderer([ETAG, DATA], CardCache(10)).propstats(a_card())
    assert Renderer([ETAG, DATA]).propstats(a_card()) == kept


def test_a_card_is_written_from_its_content_key_alone() -> None:
    """What the cache is keyed by must be all a card is written from: entries alike in it
    and unlike in everything else have the same card and the same ETag."""
    one = VisibleEntry("e_abcdefgh1234", "+8613800138000", "Li Lei", ["team"], "member", "a", "b")
    other = VisibleEntry("e_abcdefgh1234", "+8613800138000", "Li Lei", [], "owner", "c", "d")
    for version in CardVersion:
        cards = [Card("/dav/x.vcf", "/p/", one, version), Card("/dav/y.vcf", "/q/", other, version)]
        assert cards[0].content_key() == cards[1].content_key()
        assert cards[0].vcard() == cards[1].vcard()
        assert cards[0].etag() == cards[1].etag()


def test_everything_drawn_from_a_forgotten_entry_goes_and_nothing_else() -> None:
    cache = CardCache(10)
    for names in ([ETAG], [ETAG, DATA]):
        Renderer(names, cache).propstats(a_card("Li Lei", "e_abcdefgh1234"))
        Renderer(names, cache).propstats(a_card("Han Meimei", "e_ijklmnop5678"))
    assert len(cache) == 4
    cache.forget(["e_abcdefgh1234"])
    assert len(cache) == 2
    render = Renderer([ETAG, DATA], cache)
    assert render.propstats(a_card("Han Meimei", "e_ijklmnop5678")) is render.propstats(
        a_card("Han Meimei", "e_ijklmnop5678")
    )
    assert len(cache) == 2


def test_a_rendering_dropped_for_room_is_forgotten_with_its_entry_too() -> None:
    cache = CardCache(1)
    render = Renderer([ETAG], cache)
    render.propstats(a_card("Li Lei", "e_abcdefgh1234"))
    render.propstats(a_card("Han Meimei", "e_ijklmnop5678"))  # pushes Li Lei's out
    cache.forget(["e_abcdefgh1234", "e_ijklmnop5678"])
    assert len(cache) == 0
    render.propstats(a_card("Li Lei", "e_abcdefgh1234"))
    assert len(cache) == 1
