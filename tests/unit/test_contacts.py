"""The local address book: reading vCard and CSV exports, merging people, the private file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circlebook.client.contacts import (
    AddressBook,
    Contact,
    ContactsError,
    ImportResult,
    Problem,
    merge,
    read_csv,
    read_file,
    read_vcards,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "contacts"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8-sig")


def by_name(result: ImportResult) -> dict[str, tuple[str, ...]]:
    return {contact.name: contact.phones for contact in result.contacts}


def card(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD", ""])


# -- vCard 3.0: the messy export --------------------------------------------------------------


def test_messy_vcard_file_yields_every_readable_person_once() -> None:
    result = read_vcards(fixture("messy-3.0.vcf"), "CN")
    assert by_name(result) == {
        "Zhang Wei (Fudan Class of 2012)": ("+8613800138000", "+861065529988", "+8613700137000"),
        "Li Na": ("+8613800138001",),
        "王小明": ("+8613900139000",),
        "John Smith": ("+14155552671",),
        "+862162345678": ("+862162345678",),
        "Emily Clarke": ("+442079460958",),
    }


def test_messy_vcard_file_reports_each_problem_by_card_and_reason() -> None:
    result = read_vcards(fixture("messy-3.0.vcf"), "CN")
    assert result.problems == [
        Problem("card 2", "'12' is not a valid phone number in CN", "Li Na"),
        Problem("card 3", "no phone number", "Wang Fang"),
        Problem(
            "card 5",
            "cannot be read (lines 31-36): "
            "Failed to parse line: this line has no colon and breaks the card",
            "Broken Card",
        ),
    ]


def test_broken_card_does_not_stop_the_rest() -> None:
    result = read_vcards(fixture("messy-3.0.vcf"), "CN")
    names = [contact.name for contact in result.contacts]
    # Cards 6 to 9 come after the broken card 5.
    assert {"John Smith", "Emily Clarke", "+862162345678"} <= set(names)
    assert "Broken Card" not in names
    assert "+8613600136000" not in {p for c in result.contacts for p in c.phones}


def test_folded_lines_are_read_as_one_value() -> None:
    zhang = read_vcards(fixture("messy-3.0.vcf"), "CN").contacts[0]
    assert zhang.name == "Zhang Wei (Fudan Class of 2012)"
    assert "+861065529988" in zhang.phones  # "010-6552-" folded onto " 9988"


def test_numbers_in_different_formats_merge_into_one_contact() -> None:
    # Card 1 has "138 0013 8000", card 7 "+86 (138) 0013-8000" and one more number.
    result = read_vcards(fixture("messy-3.0.vcf"), "CN")
    zhangs = [c for c in result.contacts if "+8613800138000" in c.phones]
    assert zhangs == [
        Contact(
            "Zhang Wei (Fudan Class of 2012)",
            ("+8613800138000", "+861065529988", "+8613700137000"),
        )
    ]


def test_bad_number_is_a_problem_but_the_contact_keeps_its_valid_numbers() -> None:
    result = read_vcards(fixture("messy-3.0.vcf"), "CN")
    assert by_name(result)["Li Na"] == ("+8613800138001",)
    assert Problem("card 2", "'12' is not a valid phone number in CN", "Li Na") in result.problems


def test_card_without_fn_is_named_from_n_and_without_any_name_by_its_number() -> None:
    names = by_name(read_vcards(fixture("messy-3.0.vcf"), "CN"))
    assert names["John Smith"] == ("+14155552671",)
    assert names["+862162345678"] == ("+862162345678",)


def test_chinese_name_from_its_parts_is_family_name_first_without_a_space() -> None:
    vcard = read_vcards(card("N:王;小明;;;", "TEL:13900139000"), "CN")
    table = read_csv("First Name,Last Name,Phone 1 - Value\n小明,王,13900139000\n", "CN")
    assert by_name(vcard) == by_name(table) == {"王小明": ("+8613900139000",)}


def test_numbers_with_a_country_code_keep_their_country_whatever_the_region() -> None:
    text = card("FN:Emily", "TEL:0044 20 7946 0958", "TEL:+86 139 0013 9000")
    result = read_vcards(text, "US")  # in the US, 00 is not the international prefix
    assert by_name(result) == {"Emily": ("+442079460958", "+8613900139000")}


def test_same_number_twice_in_one_card_is_kept_once() -> None:
    text = card("FN:Li Lei", "TEL;TYPE=CELL:13800138000", "TEL;TYPE=PREF:+86 138-0013-8000")
    assert by_name(read_vcards(text, "CN")) == {"Li Lei": ("+8613800138000",)}


def test_card_with_only_invalid_numbers_is_not_imported_and_says_so() -> None:
    result = read_vcards(card("FN:Nobody", "TEL:12", "TEL:+86 1"), "CN")
    assert result.contacts == []
    assert result.problems == [
        Problem("card 1", "'12' is not a valid phone number in CN", "Nobody"),
        Problem("card 1", "'+86 1' is not a valid phone number", "Nobody"),
        Problem("card 1", "no valid phone number; not imported", "Nobody"),
    ]


@pytest.mark.parametrize(
    ("broken_line", "reason"),
    [
        ("no colon here", "Failed to parse line: no colon here"),
        ("PHOTO;ENCODING=b;TYPE=JPEG:!!!notbase64", "decoding with 'base64' codec failed"),
        ("NOTE;CHARSET=X-NOPE;ENCODING=QUOTED-PRINTABLE:=41", "unknown encoding: X-NOPE"),
        ("FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E7=8E", "'utf-8' codec can't decode"),
    ],
)
def test_each_kind_of_broken_card_is_a_problem_and_the_next_card_is_read(
    broken_line: str, reason: str
) -> None:
    text = card("FN:Broken", broken_line, "TEL:13800138000") + card("FN:Fine", "TEL:13900139000")
    result = read_vcards(text, "CN")
    assert by_name(result) == {"Fine": ("+8613900139000",)}
    [problem] = result.problems
    assert problem.where == "card 1"
    assert problem.what.startswith("cannot be read (lines 1-6): ")
    assert reason in problem.what


def test_card_without_end_is_a_problem_and_the_next_card_is_read() -> None:
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Off\r\nTEL:1380013\r\n" + card(
        "FN:Fine", "TEL:13900139000"
    )
    result = read_vcards(text, "CN")
    assert by_name(result) == {"Fine": ("+8613900139000",)}
    assert result.problems == [
        Problem("card 1", "has no END:VCARD (lines 1-4); not imported", "Cut Off")
    ]


def test_text_outside_any_card_is_reported_rather_than_lost() -> None:
    text = "BEGN:VCARD\r\nFN:Typo\r\nTEL:13800138000\r\nEND:VCARD\r\n\r\n" + card(
        "FN:Fine", "TEL:13900139000"
    )
    result = read_vcards(text, "CN")
    assert by_name(result) == {"Fine": ("+8613900139000",)}
    assert result.problems == [Problem("lines 1-4", "outside BEGIN:VCARD..END:VCARD; skipped")]


def test_unknown_region_is_refused_before_reading() -> None:
    with pytest.raises(ContactsError, match="'XX' is not a region code"):
        read_vcards(card("FN:A", "TEL:13800138000"), "XX")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "BEGIN:VCARD",
                "END:VCARD",
                "VERSION:3.0",
                "FN:Ann",
                "N:王;小明;;;",
                "TEL:13800138000",
                "TEL:12",
                " folded",
                "no colon",
                "PHOTO;ENCODING=b:!!",
                "FN;ENCODING=QUOTED-PRINTABLE:=E7=",
                "",
            ]
        )
        | st.text(max_size=20),
        max_size=25,
    )
)
def test_any_text_is_read_without_raising(lines: list[str]) -> None:
    result = read_vcards("\r\n".join(lines), "CN")
    for contact in result.contacts:
        assert contact.phones
        assert all(phone.startswith("+") for phone in contact.phones)


# -- vCard 4.0 and 2.1 ------------------------------------------------------------------------


def test_vcard4_tel_uris_are_read_without_their_parameters() -> None:
    result = read_vcards(fixture("contacts-4.0.vcf"), "CN")
    assert by_name(result) == {
        "Ann Lee": ("+14155552671", "+14155550100"),  # ";ext=102" dropped
        "王小明": ("+8613900139000",),
        "Dr. Jürgen Müller": ("+4930901820",),
        "Local Number": ("+8613800138000",),  # tel:13800138000 read in CN
    }
    assert result.problems == []


def test_vcard21_quoted_printable_names_with_soft_line_breaks_are_decoded() -> None:
    result = read_vcards(fixture("android-2.1.vcf"), "CN")
    assert by_name(result) == {
        "王小明 复旦大学计算机系": ("+8613900139000", "+861065529988"),
        "John Smith": ("+14155552671",),
    }


# -- CSV ----------------------------------------------------------------------------------------


def test_google_csv_reads_multi_number_cells_and_merges_the_same_person() -> None:
    result = read_csv(fixture("google.csv"), "CN")
    assert by_name(result) == {
        "Zhang Wei": ("+8613800138000", "+8613700137000", "+861065529988"),
        "John Smith": ("+14155552671",),  # no Name: Given Name + Family Name
        "王小明": ("+8613900139000",),
    }


def test_csv_problems_name_the_line_counting_cells_that_span_lines() -> None:
    result = read_csv(fixture("google.csv"), "CN")
    # John Smith's note spans lines 3-4, so Li Na is on line 6.
    assert result.problems == [
        Problem("line 6", "'12' is not a valid phone number in CN", "Li Na"),
        Problem("line 6", "no valid phone number; not imported", "Li Na"),
        Problem("line 7", "no phone number", "Wang Fang"),
    ]


def test_byte_order_mark_does_not_hide_the_first_column() -> None:
    raw = (FIXTURES / "google.csv").read_bytes().decode("utf-8")
    assert raw.startswith("\ufeffName,")
    assert "Zhang Wei" in by_name(read_csv(raw, "CN"))


def test_phone_csv_with_chinese_headers() -> None:
    result = read_csv(fixture("phone-cn.csv"), "CN")
    assert by_name(result) == {
        "王小明": ("+8613900139000",),
        "李娜": ("+8613800138001",),
        "张伟": ("+8613800138000",),
        "+8613700137000": ("+8613700137000",),
    }
    assert result.problems == [
        Problem("line 5", "no phone number", "赵六"),
        Problem("line 7", "'12345' is not a valid phone number in CN", "陈静"),
        Problem("line 7", "no valid phone number; not imported", "陈静"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        # Google Contacts' export since 2023.
        "First Name,Middle Name,Last Name,Phone 1 - Label,Phone 1 - Value\n"
        "Ann,,Lee,Mobile,+1 415 555 2671\n",
        # Outlook, with a header in capitals.
        "FIRST NAME,LAST NAME,MOBILE PHONE,Home Phone\nAnn,Lee,+1 415 555 2671,\n",
        # A spreadsheet saved where cells are separated by ';'.
        "name;Mobile\nAnn Lee;+1 415 555 2671\n",
        "Name\tphone\nAnn Lee\t+1 415 555 2671\n",
    ],
)
def test_csv_columns_are_found_by_common_names_in_any_case(text: str) -> None:
    assert by_name(read_csv(text, "CN")) == {"Ann Lee": ("+14155552671",)}


def test_csv_without_a_phone_column_is_refused_naming_its_columns() -> None:
    with pytest.raises(ContactsError, match=r"no phone column .*'Name', 'Email'"):
        read_csv("Name,Email\nAnn,ann@example.com\n", "CN")


def test_empty_csv_holds_no_contacts() -> None:
    assert read_csv("", "CN") == ImportResult()


# -- files --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("messy-3.0.vcf", "Zhang Wei (Fudan Class of 2012)"),
        ("contacts-4.0.vcf", "Ann Lee"),
        ("google.csv", "Zhang Wei"),
        ("phone-cn.csv", "王小明"),
    ],
)
def test_read_file_chooses_the_reader_by_extension_and_records_the_source(
    name: str, first: str
) -> None:
    result = read_file(FIXTURES / name, "CN")
    assert result.contacts[0].name == first
    assert {contact.source for contact in result.contacts} == {name}


def test_read_file_sniffs_content_when_the_extension_says_nothing(tmp_path: Path) -> None:
    vcards = tmp_path / "export.txt"
    vcards.write_text(card("FN:Ann", "TEL:13800138000"), encoding="utf-8")
    table = tmp_path / "list.dat"
    table.write_text("姓名,手机\n李雷,13900139000\n", encoding="utf-8")
    assert by_name(read_file(vcards, "CN")) == {"Ann": ("+8613800138000",)}
    assert by_name(read_file(table, "CN")) == {"李雷": ("+8613900139000",)}


def test_read_file_reads_utf16_exports(tmp_path: Path) -> None:
    path = tmp_path / "outlook.csv"
    path.write_bytes("Name,Mobile Phone\r\n李雷,13900139000\r\n".encode("utf-16"))
    assert by_name(read_file(path, "CN")) == {"李雷": ("+8613900139000",)}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"just some notes\n", "neither a vCard"),
        ("gbk.csv", "姓名,手机\n李雷,13900139000\n".encode("gbk"), "not UTF-8 text"),
    ],
)
def test_read_file_refuses_what_it_cannot_read_saying_why(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ContactsError, match=message):
        read_file(path, "CN")


def test_read_file_of_a_missing_file_raises_contacts_error(tmp_path: Path) -> None:
    with pytest.raises(ContactsError, match=r"cannot read .*nothing\.vcf"):
        read_file(tmp_path / "nothing.vcf", "CN")


# -- merging ------------------------------------------------------------------------------------


def test_merge_counts_only_new_people_and_folds_shared_numbers_into_existing() -> None:
    existing = [Contact("Li Lei", ("+8613800138000",)), Contact("Han Meimei", ("+8613900139000",))]
    new = [
        Contact("Lei Li", ("+8613700137000", "+8613800138000")),
        Contact("Jim Green", ("+14155552671",)),
    ]
    merged, added = merge(existing, new)
    assert added == 1
    assert merged == [
        Contact("Li Lei", ("+8613800138000", "+8613700137000")),
        Contact("Han Meimei", ("+8613900139000",)),
        Contact("Jim Green", ("+14155552671",)),
    ]


def test_merge_prefers_a_real_name_to_a_number_standing_in_for_one() -> None:
    merged, added = merge(
        [Contact("+8613800138000", ("+8613800138000",))], [Contact("Li Lei", ("+8613800138000",))]
    )
    assert (merged, added) == ([Contact("Li Lei", ("+8613800138000",))], 0)


def test_contact_sharing_numbers_with_two_existing_ones_joins_them() -> None:
    existing = [Contact("Li Lei", ("+8613800138000",)), Contact("Lei", ("+8613900139000",))]
    bridge = [Contact("Li Lei (work)", ("+8613900139000", "+8613800138000"))]
    merged, added = merge(existing, bridge)
    assert (merged, added) == ([Contact("Li Lei", ("+8613800138000", "+8613900139000"))], 0)


# -- the address book file ----------------------------------------------------------------------


def test_address_book_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "contacts.json"
    path.write_text('{"version": 1, "contacts": []}', encoding="utf-8")
    path.chmod(0o644)  # a copy someone made readable must not stay so
    AddressBook(path).save([Contact("Li Lei", ("+8613800138000",))])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fresh = tmp_path / "new" / "contacts.json"
    AddressBook(fresh).save([])
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_address_book_keeps_names_and_numbers_as_saved(tmp_path: Path) -> None:
    book = AddressBook(tmp_path / "contacts.json")
    contacts = [Contact("王小明", ("+8613900139000", "+861065529988"), "phone.vcf")]
    book.save(contacts)
    assert book.load() == contacts
    assert "王小明" in (tmp_path / "contacts.json").read_text(encoding="utf-8")


def test_missing_address_book_is_empty(tmp_path: Path) -> None:
    assert AddressBook(tmp_path / "none.json").load() == []


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"version": 2, "contacts": []}', '{"version": 1, "contacts": [{}]}'],
)
def test_damaged_address_book_raises_naming_the_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "contacts.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ContactsError, match=r"contacts\.json is not a circlebook address book"):
        AddressBook(path).load()


def test_failed_save_leaves_the_old_book_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = AddressBook(tmp_path / "contacts.json")
    book.save([Contact("Li Lei", ("+8613800138000",))])

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ContactsError, match=r"cannot write .*No space left on device"):
        book.save([])
    monkeypatch.undo()
    assert book.load() == [Contact("Li Lei", ("+8613800138000",))]
    assert [p.name for p in tmp_path.iterdir()] == ["contacts.json"]


def test_import_twice_adds_nobody_the_second_time(tmp_path: Path) -> None:
    book = AddressBook(tmp_path / "contacts.json")
    result = read_file(FIXTURES / "messy-3.0.vcf", "CN")
    assert book.import_result(result) == (6, 6)
    assert book.import_result(result) == (0, 6)
    # The same people from another export fold into the ones already there.
    assert book.import_result(read_file(FIXTURES / "google.csv", "CN")) == (0, 6)
    stored = json.loads((tmp_path / "contacts.json").read_text(encoding="utf-8"))
    assert stored["contacts"][0] == {
        "name": "Zhang Wei (Fudan Class of 2012)",
        "phones": ["+8613800138000", "+861065529988", "+8613700137000"],
        "source": "messy-3.0.vcf",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (None, ["Zhang Wei", "王小明", "Ann Lee"]),
        ("", ["Zhang Wei", "王小明", "Ann Lee"]),
        ("zhang", ["Zhang Wei"]),
        ("小明", ["王小明"]),
        ("ANN", ["Ann Lee"]),
        ("138 0013-8000", ["Zhang Wei"]),
        ("+86 139", ["王小明"]),
        ("0013", ["Zhang Wei", "王小明"]),
        ("415", ["Ann Lee"]),
        ("nobody", []),
    ],
)
def test_find_matches_names_in_any_case_and_numbers_ignoring_separators(
    tmp_path: Path, query: str | None, expected: list[str]
) -> None:
    book = AddressBook(tmp_path / "contacts.json")
    book.save(
        [
            Contact("Zhang Wei", ("+8613800138000",)),
            Contact("王小明", ("+8613900139000",)),
            Contact("Ann Lee", ("+14155552671",)),
        ]
    )
    assert [contact.name for contact in book.find(query)] == expected


def test_address_book_lives_in_the_user_data_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert AddressBook().path == tmp_path / "circlebook" / "contacts.json"
