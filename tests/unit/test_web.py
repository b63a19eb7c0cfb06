"""The web layer's pure parts, and where it may reach: services and the API's plumbing only."""

from __future__ import annotations

import pytest

from circlebook.domain import errors
from circlebook.web.contacts import Candidate, read_typed, read_upload, typed_tags
from circlebook.web.feedback import explain, outcome_message
from tests.unit.test_architecture import imports_of

OUTER = {"storage", "sms", "app", "serving", "dav", "notify"}


def test_the_pages_reach_no_adapter_and_nothing_reaches_the_pages() -> None:
    wrong = [
        (where, module)
        for where, module in imports_of("web")
        if module.startswith("circlebook.") and module.split(".")[1] in OUTER
    ]
    assert wrong == []
    for layer in ("domain", "services", "storage", "api", "sms", "notify"):
        assert [m for _, m in imports_of(layer) if m.startswith("circlebook.web")] == [], layer


def test_typed_lines_become_people_with_the_name_on_either_side() -> None:
    typed = "\n".join(
        [
            "Meimei 138 0013 8001",
            "+86 138-0013-8002, Lei",
            "",
            "  13800138003  ",
            "李雷\uff1a13800138004",  # a full-width colon
            "nonsense",
        ]
    )
    assert read_typed(typed) == [
        Candidate("138 0013 8001", "Meimei", picked=True),
        Candidate("+86 138-0013-8002", "Lei", picked=True),
        Candidate("13800138003", "", picked=True),
        Candidate("13800138004", "李雷", picked=True),
        Candidate("nonsense", "", picked=True),  # create_book will say why it is refused
    ]


def test_an_uploaded_file_is_read_by_the_local_address_books_readers() -> None:
    vcard = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Meimei\r\nTEL:138 0013 8001\r\nEND:VCARD\r\n"
    people, problems = read_upload("phone.vcf", vcard, "CN", 1000)
    assert people == [Candidate("+8613800138001", "Meimei", picked=False)]
    assert problems == []
    csv = b"Name,Phone\nLei,13800138002\nNobody,\n"
    people, problems = read_upload("export", csv, "CN", 1000)
    assert [p.phone for p in people] == ["+8613800138002"]
    assert [p.what for p in problems] == ["no phone number"]


def test_tags_typed_in_one_box_split_on_commas_of_either_script_and_spaces() -> None:
    assert typed_tags(" team, class\uff0c红队\u3001 a b ") == ["team", "class", "红队", "a", "b"]
    assert typed_tags("   ") == []


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (errors.InvalidPhoneError("x", field="invitees[2].phone"), "not a valid phone number"),
        (errors.InvalidInputError("x", field="code"), "6 digits"),
        (errors.InvalidInputError("x", field="title"), "A title needs"),
        (errors.InvalidInputError("x", field="invitees[0].tags"), "Tags are words"),
        (errors.InvalidCodeError("x", field="code"), "wrong or has expired"),
        (errors.NotFoundError("x"), "This is not here"),
        (errors.CirclebookError("x"), "Something went wrong"),
    ],
)
def test_each_error_is_told_in_words_of_the_field_it_concerns(
    error: errors.CirclebookError, says: str
) -> None:
    assert says in explain(error).text


def test_a_rate_limit_says_how_many_minutes_to_wait() -> None:
    message = explain(errors.RateLimitedError("x", retry_after=61))
    assert message.values == {"minutes": 2}


def test_each_outcome_of_an_invitation_has_its_words() -> None:
    assert outcome_message("invited", None).text == "Invited"
    assert "phone number" in outcome_message("invalid", "invitees[1].phone").text
    assert "tag" in outcome_message("invalid", "invitees[1].tags").text
    assert outcome_message("invalid", None).text == "Not invited"
