"""Entity tags of a view, and If-None-Match read as RFC 9110 section 13.1.2 says."""

from __future__ import annotations

import pytest

from circlebook.domain.entity_tags import matches_any, of_view

TAG = of_view("token", "e_member", "application/json")


def test_a_views_tag_is_weak_and_moves_with_each_of_its_parts() -> None:
    assert TAG.startswith('W/"') and TAG.endswith('"')
    assert of_view("token", "e_member", "application/json") == TAG
    others = {
        of_view("token2", "e_member", "application/json"),
        of_view("token", "e_other", "application/json"),
        of_view("token", "e_member", "text/vcard"),
    }
    assert TAG not in others and len(others) == 3


@pytest.mark.parametrize(
    "header",
    ["*", " * ", TAG, TAG.removeprefix("W/"), f'"a", {TAG}', f'"a,b",{TAG}', f",, {TAG} ,"],
)
def test_the_current_tag_star_or_a_list_holding_it_matches(header: str) -> None:
    assert matches_any(header, TAG)


@pytest.mark.parametrize(
    "header", [None, "", '"other"', 'W/"other", "more"', "no quotes", f"{TAG[:-1]}", f"x {TAG}"]
)
def test_anything_else_matches_nothing(header: str | None) -> None:
    assert not matches_any(header, TAG)
