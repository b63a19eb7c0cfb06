"""The `circlebook` terminal end to end: three terminals against a real server on loopback.

Each terminal is its own XDG config and data directory, so it has its own session file and
local address book. Most commands run in-process through typer's CliRunner; the error paths
run as real `python -m circlebook` processes, to see exactly what a person would see.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from circlebook.client.cli import app
from tests.e2e.live import CIRCLEBOOK, Server, live_server
from tests.e2e.test_server_process import clean_env, free_port

FIXTURES = Path(__file__).parent.parent / "fixtures"
CONTACTS = FIXTURES / "contacts"
FRIENDS = FIXTURES / "cli" / "friends.csv"  # the owner's address book

OWNER = ("+8615100151001", "Li Lei")
MEIMEI = ("+8615100151002", "Han Meimei")  # "Han Meimei" in the owner's address book
FANG = ("+8615100151003", "Wang Fang")  # "王芳" in the owner's address book
PROMPTED = "+8615100151004"
MISTYPED = "+8615100151005"
NEWCOMER = ("+8615100151012", "Zhao Xin")  # signs in, is in no book and asked to none
ZHOU = "+8615100151011"  # in the owner's address book; never signs in


@dataclass
class Terminal:
    """One person's terminal: a home of its own and the server it talks to."""

    home: Path
    server: str

    @property
    def dirs(self) -> dict[str, str]:
        return {
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_DATA_HOME": str(self.home / "data"),
            "CIRCLEBOOK_SERVER": self.server,
        }

    @property
    def session_file(self) -> Path:
        return self.home / "config" / "circlebook" / "session.json"

    def invoke(self, *args: str, input: str | None = None) -> Result:
        inherited: dict[str, str | None] = {
            k: None for k in os.environ if k.startswith("CIRCLEBOOK_")
        }
        env = {**inherited, **self.dirs, "COLUMNS": "250"}
        return CliRunner().invoke(app, list(args), input=input, env=env)

    def cli(self, *args: str, input: str | None = None) -> str:
        """Run a command in-process; it must succeed. Returns what it printed."""
        result = self.invoke(*args, input=input)
        assert result.exit_code == 0, (result.output, result.exception)
        assert "Traceback" not in result.output
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json"))

    def process(self, *args: str, server: str | None = None) -> subprocess.CompletedProcess[str]:
        env = clean_env(**{**self.dirs, "CIRCLEBOOK_SERVER": server or self.server})
        env.pop("COLUMNS", None)  # stderr is a pipe: Rich's default width
        return subprocess.run(
            [*CIRCLEBOOK, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip

    def fails(self, *args: str, server: str | None = None) -> str:
        """Run a command as a real process; it must fail with one line. Returns that line."""
        done = self.process(*args, server=server)
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("circlebook: ")
        return lines[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(scope="module")
def terminal(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Terminal]:
    """terminal() is a new terminal, signed in nowhere and with an empty address book."""
    return lambda: Terminal(tmp_path_factory.mktemp("terminal"), server.url)


def signed_in(server: Server, term: Terminal, who: tuple[str, str]) -> Terminal:
    phone, name = who
    out = term.cli("login", phone, "--code", server.send_code(phone), "--name", name)
    assert f"Signed in as {name} ({phone})" in out
    return term


@pytest.fixture(scope="module")
def owner(server: Server, terminal: Callable[[], Terminal]) -> Terminal:
    term = signed_in(server, terminal(), OWNER)
    assert "Added 3 contacts" in term.cli("contacts", "import", str(FRIENDS))
    return term


@pytest.fixture(scope="module")
def meimei(server: Server, terminal: Callable[[], Terminal]) -> Terminal:
    return signed_in(server, terminal(), MEIMEI)


@pytest.fixture(scope="module")
def fang(server: Server, terminal: Callable[[], Terminal]) -> Terminal:
    return signed_in(server, terminal(), FANG)


def create(owner: Terminal, title: str, *picks: str) -> dict[str, Any]:
    created: dict[str, Any] = owner.json("create", title, *picks)
    assert created["book"]["title"] == title
    return created


def shared_book(owner: Terminal, title: str, *members: tuple[Terminal, str]) -> str:
    """A book of `owner` that each member, picked by filter (with =tags), has joined."""
    book_id = str(create(owner, title, *(pick for _, pick in members))["book"]["id"])
    for term, _ in members:
        assert f"You joined {title} ({book_id})." in term.cli("accept", title)
    return book_id


def row(table: str, needle: str) -> str:
    """The one row of a printed table that holds `needle` (lines after the table aside)."""
    found = [line for line in table.splitlines() if needle in line and "│" in line]
    assert len(found) == 1, table
    return found[0]


def names_and_phones(entries: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(e["name"], e["phone"]) for e in entries}


# -- signing in ------------------------------------------------------------------------------


def test_login_asks_for_the_code_at_a_prompt_and_keeps_a_private_session(
    server: Server, terminal: Callable[[], Terminal]
) -> None:
    term = terminal()
    pipe = subprocess.PIPE
    login = subprocess.Popen(
        [*CIRCLEBOOK, "login", PROMPTED, "--name", "Zhou Prompt"],
        env=clean_env(**term.dirs), stdin=pipe, stdout=pipe, stderr=pipe, text=True,
    )  # fmt: skip
    try:
        code = server.code_for(PROMPTED)
        out, err = login.communicate(code + "\n", timeout=30)
    finally:
        if login.poll() is None:
            login.kill()
            login.wait()
    assert login.returncode == 0, err
    assert f"Code sent to {PROMPTED}" in out
    assert f"Signed in as Zhou Prompt ({PROMPTED}) on {server.url}" in out
    assert str(term.session_file) in err.replace("\n", "")
    assert term.session_file.stat().st_mode & 0o777 == 0o600
    token = json.loads(term.session_file.read_text())["token"]
    assert term.json("whoami")["phone"] == PROMPTED
    assert term.cli("logout").strip() == "Signed out."
    assert not term.session_file.exists()
    gone = server.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401


def test_login_with_the_code_option_keeps_a_private_session(owner: Terminal) -> None:
    assert owner.session_file.stat().st_mode & 0o777 == 0o600
    saved = json.loads(owner.session_file.read_text())
    assert (saved["phone"], saved["server"]) == (OWNER[0], owner.server)
    assert owner.json("whoami")["name"] == OWNER[1]


# -- the local address book ------------------------------------------------------------------


def test_contacts_import_merges_duplicates_and_lists_what_it_could_not_import(
    terminal: Callable[[], Terminal],
) -> None:
    term = terminal()
    files = [str(CONTACTS / name) for name in ("messy-3.0.vcf", "phone-cn.csv")]
    out = term.cli("contacts", "import", *files, "--region", "CN")
    assert "Added 6 contacts; the address book holds 6." in out
    assert "'12' is not a valid phone number in CN" in row(out, "card 2")
    assert "no phone number" in row(out, "card 3")
    assert "cannot be read (lines 31-36)" in row(out, "card 5")
    assert "no phone number" in row(out, "line 5")  # 赵六 has a name and no number
    assert "'12345' is not a valid phone number in CN" in out
    assert (term.home / "data" / "circlebook" / "contacts.json").stat().st_mode & 0o777 == 0o600
    listed = term.json("contacts", "list")
    assert listed == [
        {
            "name": "Zhang Wei (Fudan Class of 2012)",
            "phones": ["+8613800138000", "+861065529988", "+8613700137000"],
        },
        {"name": "Li Na", "phones": ["+8613800138001"]},  # 李娜 in the CSV is the same number
        {"name": "王小明", "phones": ["+8613900139000"]},
        {"name": "John Smith", "phones": ["+14155552671"]},
        {"name": "+862162345678", "phones": ["+862162345678"]},  # a card with no name
        {"name": "Emily Clarke", "phones": ["+442079460958"]},
    ]
    again = term.json("contacts", "import", str(CONTACTS / "google.csv"), "--region", "CN")
    assert (again["added"], again["total"]) == (0, 6)  # everyone in it is known already
    assert ["google.csv", "line 6", "'12' is not a valid phone number in CN"] in again["problems"]
    assert ["google.csv", "line 7", "no phone number"] in again["problems"]
    assert [c["name"] for c in term.json("contacts", "list", "王")] == ["王小明"]


# -- owner: creating and inviting --------------------------------------------------------------


def test_create_picks_by_filter_with_per_pick_tags_and_shows_each_outcome(
    owner: Terminal,
) -> None:
    out = owner.cli("create", "Weekend hikers", "Meimei=hiking", "王芳=climbing,hiking", "12345")
    assert "Book Weekend hikers created: b_" in out
    assert "invited" in row(out, "Han Meimei")
    assert "invited" in row(out, "王芳")
    assert "not a valid phone number" in row(out, "12345")
    assert "invalid" in row(out, "12345")
    book_id = out.split("created: ")[1].split()[0]
    pending = {p["phone"]: p for p in owner.json("pending", book_id)}
    assert pending[MEIMEI[0]]["tags"] == ["hiking"]
    assert sorted(pending[FANG[0]]["tags"]) == ["climbing", "hiking"]
    assert (pending[MEIMEI[0]]["name"], pending[FANG[0]]["name"]) == ("Han Meimei", "王芳")


def test_create_all_with_a_tag_and_a_raw_number_answers_json(owner: Terminal) -> None:
    created = create(owner, "Everyone", "--all", "--tag", "club", "+86 151 0015 1099", "12345")
    outcomes = {o["input"]: o for o in created["outcomes"]}
    everyone = {MEIMEI[0], FANG[0], ZHOU, "+8615100151099"}
    assert {o["phone"] for o in outcomes.values() if o["status"] == "invited"} == everyone
    assert outcomes["12345"]["status"] == "invalid"
    assert outcomes["12345"]["field"] == "invitees[4].phone"
    assert created["book"]["role"] == "owner"
    pending = owner.json("pending", "Everyone")
    assert {p["phone"] for p in pending} == everyone
    assert all(p["tags"] == ["club"] for p in pending)


def test_create_without_picks_asks_which_contacts_to_invite(owner: Terminal) -> None:
    out = owner.cli("create", "Picked", "--tag", "all", input="1=first\n3\n\n")
    assert "Pick by number" in out
    pending = {p["name"]: p["tags"] for p in owner.json("pending", "Picked")}
    assert pending == {"Han Meimei": ["all", "first"], "Zhou Jie": ["all"]}


def test_invite_more_people_reports_who_was_already_asked_or_joined(
    owner: Terminal, meimei: Terminal
) -> None:
    shared_book(owner, "Growing", (meimei, "Meimei"))
    create_out = owner.cli("invite", "Growing", "Zhou")
    assert "invited" in row(create_out, "Zhou Jie")
    outcomes = owner.json("invite", "Growing", "Meimei", "Zhou", "王芳")
    assert [(o["phone"], o["status"]) for o in outcomes] == [
        (MEIMEI[0], "already_member"),
        (ZHOU, "already_invited"),
        (FANG[0], "invited"),
    ]


# -- invitee: inbox, accept, decline ------------------------------------------------------------


def test_accept_by_id_by_id_prefix_and_by_title_and_decline(
    owner: Terminal, meimei: Terminal, fang: Terminal
) -> None:
    titles = ["Inbox by id", "Inbox by prefix", "Inbox by title"]
    books = {t: create(owner, t, "Meimei")["book"]["id"] for t in titles}
    create(owner, "Inbox declined", "王芳")
    waiting = {i["book_title"]: i for i in meimei.json("inbox")}
    assert set(titles) <= set(waiting)
    assert waiting["Inbox by id"]["inviter_name"] == OWNER[1]
    assert "Li Lei (+8615100151001)" in row(meimei.cli("inbox"), "Inbox by title")

    meimei.cli("accept", waiting["Inbox by id"]["id"])
    meimei.cli("accept", waiting["Inbox by prefix"]["id"][:10])
    meimei.cli("accept", "inbox BY TITLE")  # titles match whatever the case
    assert not set(titles) & {i["book_title"] for i in meimei.json("inbox")}
    mine = {b["title"]: b for b in meimei.json("books")}
    assert {t: mine[t]["id"] for t in titles} == books
    assert {mine[t]["role"] for t in titles} == {"member"}

    assert fang.cli("decline", "Inbox declined").strip() == "Declined."
    assert "Inbox declined" not in {i["book_title"] for i in fang.json("inbox")}
    assert owner.json("pending", "Inbox declined") == []


# -- reading a book: show, sync, export --------------------------------------------------------


def test_show_excludes_self_and_sync_fetches_only_changes_after_the_first(
    owner: Terminal, meimei: Terminal, fang: Terminal
) -> None:
    book = shared_book(owner, "Synced", (meimei, "Meimei=hiking"), (fang, "王芳=hiking"))
    shown = meimei.json("show", "Synced", "--exclude-self")
    assert names_and_phones(shown) == {(OWNER[1], OWNER[0]), ("王芳", FANG[0])}
    assert "Han Meimei" in row(owner.cli("show", "Synced"), MEIMEI[0])

    def sync(title: str = "Synced") -> str:
        return meimei.cli("sync", title).replace("\n", "")

    first = sync()
    assert "Synced: full fetch: 3 new or changed, 0 removed; 3 entries kept in" in first
    assert "full fetch" in fang.cli("sync", book)
    assert str(meimei.home / "data" / "circlebook" / "books" / f"{book}.json") in first
    assert "changes since last sync: 0 new or changed, 0 removed; 3 entries" in sync()

    assert "王芳: tags climbing" in owner.cli("retag", "Synced", "王芳", "climbing")
    assert "changes since last sync: 0 new or changed, 1 removed; 2 entries" in sync()
    # Fang's own tags changed since her token: she is answered in full, and sees only herself
    # and the owner now.
    assert "full fetch: 2 new or changed" in fang.cli("sync", book).replace("\n", "")
    owner.cli("retag", "Synced", "151-0015-1003", "hiking", "climbing")
    assert "changes since last sync: 1 new or changed, 0 removed; 3 entries" in sync()
    kept = meimei.json("sync", "Synced")["entries"]
    assert [e["tags"] for e in kept if e["phone"] == FANG[0]] == [["hiking"]]

    removed = owner.cli("remove", "Synced", FANG[0])
    assert f"Removed 王芳 ({FANG[0]}) from Synced." in removed
    assert "changes since last sync: 0 new or changed, 1 removed; 2 entries" in sync()
    assert "Renamed to Synced again." in owner.cli("rename", "Synced", "Synced again")
    assert sync("Synced again").startswith("Synced again: changes since last sync")
    assert [b["title"] for b in meimei.json("books") if b["id"] == book] == ["Synced again"]


@pytest.mark.parametrize("format", ["vcf", "csv"])
def test_an_export_imported_into_another_address_book_keeps_names_and_numbers(
    owner: Terminal, meimei: Terminal, fang: Terminal, terminal: Callable[[], Terminal], format: str
) -> None:
    title = f"Exported {format}"
    shared_book(owner, title, (meimei, "Meimei"), (fang, "王芳"))
    path = owner.home / f"book.{format}"
    assert f"Wrote {path}" in owner.cli("export", title, "--format", format, "-o", str(path))
    expected = names_and_phones(owner.json("show", title))
    assert expected == {(OWNER[1], OWNER[0]), ("Han Meimei", MEIMEI[0]), ("王芳", FANG[0])}

    elsewhere = terminal()
    imported = elsewhere.json("contacts", "import", str(path), "--region", "CN")
    assert (imported["added"], imported["problems"]) == (3, [])
    contacts = elsewhere.json("contacts", "list")
    assert {(c["name"], *c["phones"]) for c in contacts} == expected


# -- owner and member tools ------------------------------------------------------------------


def test_owner_revokes_pending_invitations_by_number_and_by_id_prefix(
    owner: Terminal,
) -> None:
    create(owner, "Revoked", "--all")
    assert f"Revoked the invitation to {ZHOU}." in owner.cli("revoke", "Revoked", ZHOU)
    fang_invitation = next(p for p in owner.json("pending", "Revoked") if p["phone"] == FANG[0])
    owner.cli("revoke", "Revoked", fang_invitation["id"][:10])
    assert [p["phone"] for p in owner.json("pending", "Revoked")] == [MEIMEI[0]]


def test_a_member_leaves_and_the_owner_dissolves_the_book_for_everyone(
    owner: Terminal, meimei: Terminal, fang: Terminal
) -> None:
    book = shared_book(owner, "Short lived", (meimei, "Meimei"), (fang, "王芳"))
    assert "You left Short lived." in fang.cli("leave", "Short lived", "--yes")
    assert {e["phone"] for e in owner.json("show", book)} == {OWNER[0], MEIMEI[0]}
    assert book not in {b["id"] for b in fang.json("books")}
    assert "Dissolved Short lived." in owner.cli("dissolve", book[:12], "--yes")
    for term in (owner, meimei):
        assert book not in {b["id"] for b in term.json("books")}


# -- errors: one line on stderr, exit 1, never a traceback ----------------------------------------


def test_a_non_owner_cannot_dissolve_a_book(owner: Terminal, meimei: Terminal) -> None:
    book = shared_book(owner, "Not yours", (meimei, "Meimei"))
    line = meimei.fails("dissolve", "Not yours", "--yes")
    assert line == "circlebook: only the book's owner may do this"
    assert book in {b["id"] for b in owner.json("books")}


def test_a_newcomer_is_told_there_are_no_books_and_no_invitations_and_scripts_get_empty_lists(
    server: Server, terminal: Callable[[], Terminal]
) -> None:
    term = signed_in(server, terminal(), NEWCOMER)
    assert term.cli("books").strip() == "No books yet: `circlebook create TITLE` starts one."
    assert term.cli("inbox").strip() == "No invitations."
    assert term.json("books") == []
    assert term.json("inbox") == []


def test_commands_before_login_say_to_log_in(terminal: Callable[[], Terminal]) -> None:
    line = terminal().fails("books")
    assert line == "circlebook: not signed in: run `circlebook login PHONE` first"


def test_a_wrong_code_at_login_is_refused(server: Server, terminal: Callable[[], Terminal]) -> None:
    term = terminal()
    code = server.send_code(MISTYPED)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert term.fails("login", MISTYPED, "--code", wrong) == "circlebook: the code is wrong"
    assert not term.session_file.exists()


def test_an_unknown_book_name_is_named_back(owner: Terminal) -> None:
    line = owner.fails("show", "No such book")
    assert line == "circlebook: no book is named 'No such book'"


def test_an_unreachable_server_is_one_line(owner: Terminal) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    line = owner.fails("books", server=closed)
    assert line.startswith(f"circlebook: cannot reach {closed}")


# -- what the server or the user typed is printed as it is ----------------------------------------


def test_brackets_in_a_title_are_printed_as_typed_not_read_as_markup(
    owner: Terminal, meimei: Terminal
) -> None:
    title = "Band [/x] [team]"
    book_id = create(owner, title, "Meimei")["book"]["id"]
    assert f"You joined {title} ({book_id})." in meimei.cli("accept", title)
    assert title in row(owner.cli("books"), book_id)
    assert owner.fails("show", "[team] Missing") == "circlebook: no book is named '[team] Missing'"


def test_a_long_error_is_still_one_line_when_stderr_is_not_a_terminal(owner: Terminal) -> None:
    title = "Fudan University Computer Science Class of 2012 tenth reunion"
    assert owner.fails("show", title) == f"circlebook: no book is named {title!r}"


# -- sessions --------------------------------------------------------------------------------


def test_sessions_lists_devices_ends_one_and_signs_out_everywhere_else(
    server: Server, terminal: Callable[[], Terminal]
) -> None:
    who = ("+8613800138891", "Sessions Sun")
    here, laptop, tablet = (signed_in(server, terminal(), who) for _ in range(3))
    listed = here.json("sessions", "list")
    assert len(listed) == 3 and [s["current"] for s in listed].count(True) == 1
    table = here.cli("sessions", "list")
    mine = next(s for s in listed if s["current"])
    assert row(table, mine["id"]).split("│")[1].strip() == "*"
    laptop_id = next(s["id"] for s in laptop.json("sessions", "list") if s["current"])
    assert "Signed out that device." in here.cli("sessions", "end", laptop_id)
    assert "circlebook: " in laptop.fails("whoami")
    assert "Signed out everywhere else." in here.cli("sessions", "end-others")
    assert "circlebook: " in tablet.fails("whoami")
    assert [s["id"] for s in here.json("sessions", "list")] == [mine["id"]]
    assert "no such session" in here.fails("sessions", "end", laptop_id)


def test_audience_shows_who_sees_my_number(
    owner: Terminal, meimei: Terminal, fang: Terminal
) -> None:
    book_id = shared_book(owner, "Audience", (meimei, "Meimei=a"), (fang, "王芳=b"))
    mine = next(b for b in meimei.json("audience") if b["book_id"] == book_id)
    assert [s[0] for s in mine["seen_by"]] == ["Li Lei"]
    out = owner.cli("audience")
    assert f"Audience ({book_id}): seen by 2" in out


def test_hand_on_makes_a_member_the_owner(server: Server, terminal: Callable[[], Terminal]) -> None:
    old, heir = (
        signed_in(server, terminal(), ("+8613800138893", "Old Owner")),
        signed_in(server, terminal(), ("+8613800138894", "Heir Hu")),
    )
    book = old.json("create", "Handed", "+8613800138894")["book"]["id"]
    assert "You joined Handed" in heir.cli("accept", "Handed")
    out = old.cli("hand-on", "Handed", "138894", "--yes")
    assert "Heir Hu now owns Handed; you stay as a member." in out
    assert [b["role"] for b in heir.json("books")] == ["owner"]
    assert "circlebook: " in old.fails("rename", book, "Taken back")


def test_export_me_writes_a_private_file_and_delete_account_forgets_the_session(
    server: Server, terminal: Callable[[], Terminal], tmp_path: Path
) -> None:
    leaver = signed_in(server, terminal(), ("+8615100151021", "Lu Li"))
    target = tmp_path / "me.json"
    assert f"Wrote {target}" in leaver.cli("export-me", "-o", str(target))
    assert target.stat().st_mode & 0o777 == 0o600
    assert json.loads(target.read_text())["account"]["phone"] == "+8615100151021"
    assert json.loads(leaver.cli("export-me", "-o", "-"))["account"]["name"] == "Lu Li"
    assert "circlebook: " in leaver.fails("delete-account", "--confirm", OWNER[0])
    assert leaver.session_file.exists()
    out = leaver.cli("delete-account", input="151 0015 1021\n")
    assert "Your account is deleted." in out
    assert not leaver.session_file.exists()
    # Signing in again opens a new, empty account: the old one is gone.
    again = signed_in(server, terminal(), ("+8615100151021", "Lu Li"))
    assert again.json("whoami")["id"] != json.loads(target.read_text())["account"]["id"]
