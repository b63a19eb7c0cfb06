"""What the server signs or keys with its secret: the same bytes release after release.

Each value here is stored or handed out (hashes in the database, tokens, cookies,
topics a push service holds), so a change to any of them breaks what was issued.
"""

from __future__ import annotations

from itertools import combinations

import pytest

from circlebook.edge import deps
from circlebook.services import (
    app_passwords,
    auth,
    dav_push,
    privacy,
    reach,
    signing,
    sync_tokens,
)
from circlebook.services.signing import Purpose
from circlebook.web import session

KEY = b"circlebook fixed test key 0123456789"
PHONE = "+8613800138000"


def test_a_phone_is_known_by_the_same_keyed_hash() -> None:
    assert auth.phone_key(KEY, PHONE) == (
        "1e81527d4d09d6abf2df2b143d6f38285fdce50de3f34cb9f66952a4e1f2bcfb"
    )


def test_a_sign_in_code_is_kept_as_the_same_keyed_hash() -> None:
    assert auth.code_key(KEY, "ph", "123456") == (
        "246e87fe6ca589ce561b2b5f546fd61288e81354e5dc654da7190c35da275a96"
    )


def test_an_erased_account_keeps_the_same_pseudonym() -> None:
    assert privacy.pseudonym(KEY, "acct1", "book1") == "a772b1673df69dea696131678b8d7fec"


def test_an_app_password_is_kept_as_the_same_keyed_hash() -> None:
    assert app_passwords._digest(KEY, "salt", "ABCD-efgh ijkl") == (
        "e84af8a604009387e2f02aa87e115871e6f332a1115c89c8b044aa60231f9a4b"
    )


def test_a_recently_used_app_password_is_remembered_by_the_same_key() -> None:
    canonical = app_passwords._canonical("ABCD-efgh ijkl")
    assert signing.sign_hex(KEY, Purpose.APP_PASSWORD_SEEN, "user", canonical) == (
        "1b795e6b7660e46f9bf9e2a18065ef9a7ec2952987e6b39cb7b52a6b62a870e6"
    )


def test_a_webdav_push_topic_stays_the_same() -> None:
    assert dav_push.topic(KEY, "acct1", "book1") == "EbTFgk8WrJ11Y4QmYnVErGjLMoYEZAxh"


def test_a_sync_token_stays_the_same_and_reads_back() -> None:
    assert sync_tokens.issue(KEY, "book1", 42) == "Y-3YTZNfGDLUi7Pwhq7bBQ"
    assert sync_tokens.read(KEY, "book1", "Y-3YTZNfGDLUi7Pwhq7bBQ", 50) == 42


def test_a_sync_token_of_the_earlier_form_still_reads() -> None:
    assert sync_tokens.read(KEY, "book1", "42.0dvdzSNtgqipAGvy", 50) == 42


def test_an_invitation_link_and_its_lookup_hash_stay_the_same() -> None:
    assert reach.link_token(KEY, "inv1") == "oyGoveZNWaG6rv5eJbaMJ3E5cFSojocE"
    assert reach.link_hash(KEY, "tok") == (
        "8c87d882235421ab54bf4ea94451b1dfe1c4e3a3e663e58fda28c04404e771d9"
    )


def test_the_sign_in_cookie_signature_stays_the_same() -> None:
    value = f"{PHONE}|1700000000"
    assert session._signature(KEY, value) == "18vpwRFZtXmV98Jm33s9kgHPaIwkyf6HfFPW8tvycmg"


def test_a_csrf_token_stays_the_same() -> None:
    assert deps.csrf_token(KEY, "seed") == "6fpl7ItsLErsDKqJUnbtEsB1NumtXqFzf0dqJKfqODw"


def test_every_purpose_has_a_label_no_other_message_can_begin_with() -> None:
    labels = [purpose.value for purpose in Purpose]
    assert len(set(labels)) == len(labels)
    # A message is its label, then the separator: a label holding one could be read as
    # another label followed by parts.
    assert not any("\x1f" in label for label in labels)


@pytest.mark.parametrize(("one", "other"), list(combinations(Purpose, 2)))
def test_a_value_made_for_one_purpose_never_matches_another(one: Purpose, other: Purpose) -> None:
    for parts in ((), ("x",), ("x", "y")):
        assert not signing.matches(signing.sign(KEY, one, *parts), signing.sign(KEY, other, *parts))


def test_a_sign_in_cookie_signature_is_no_csrf_token_for_the_same_value() -> None:
    value = f"{PHONE}|1700000000"
    assert not signing.matches(deps.csrf_token(KEY, value), session._signature(KEY, value))
    assert signing.matches(deps.csrf_token(KEY, value), deps.csrf_token(KEY, value))


def test_a_value_made_under_another_secret_does_not_match() -> None:
    assert auth.phone_key(KEY, PHONE) != auth.phone_key(KEY + b"!", PHONE)


def test_comparing_with_anything_a_client_sends_answers_without_raising() -> None:
    assert not signing.matches("token", "tökén")
    assert not signing.matches("token", "")
    assert signing.matches("tökén", "tökén")
    assert signing.matches(b"\x00\xff", b"\x00\xff")
