"""vdirsyncer and khard, CardDAV clients nobody here wrote, against a real `circlebook serve`.

vdirsyncer discovers a member's books from nothing but the server's URL (well-known
URI, principal, home), copies them into a folder of .vcf files, and on a second
run picks up what the owner changed; khard then lists the contacts from that folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import vobject

from circlebook.client import Client, Invitee
from tests.e2e.live import Server, live_server

BIN = Path(sys.executable).parent
OWNER, ANN, BO, CY, DI = (f"+861590015900{n}" for n in range(1, 6))


def tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is a dev dependency: run `make test` to install it")
    return path


@dataclass
class World:
    server: Server
    owner: Client
    class_id: str
    chess_id: str
    entries: dict[str, str]  # entry id by person's name, in "Class of 2012"
    chess_entries: dict[str, str]


def signed_in(server: Server, phone: str, name: str) -> Client:
    client = Client(server.url)
    client.request_code(phone)
    client.sign_in(phone, server.code_for(phone), "interop", name=name)
    return client


def build(server: Server) -> World:
    """Olivia's two books. In the class, Ann and Bo share `team`, Cy holds `other`, Di
    none; in the chess club nobody has a tag. So Ann sees Olivia, herself and Bo in
    the class, and Olivia, herself and Di in the chess club."""
    owner = signed_in(server, OWNER, "Olivia")
    people = {
        name: signed_in(server, phone, name)
        for name, phone in (("Ann", ANN), ("Bo", BO), ("Cy", CY), ("Di", DI))
    }
    tags = {"Ann": ("team",), "Bo": ("team",), "Cy": ("other",), "Di": ()}
    klass = owner.create_book(
        "Class of 2012", [Invitee(people[n].me().phone, n, tags[n]) for n in tags]
    ).book
    chess = owner.create_book("Chess club", [Invitee(ANN, "Ann"), Invitee(DI, "Di")]).book
    entries, chess_entries = {}, {}
    for name, client in people.items():
        for invitation in client.inbox():
            accepted = client.accept(invitation.id)
            target = entries if invitation.book_id == klass.id else chess_entries
            target[name] = accepted.entry_id
        client.close()
    return World(server, owner, klass.id, chess.id, entries, chess_entries)


def app_password(server: Server, phone: str) -> str:
    """Ann signs in over the JSON API and makes an app password for vdirsyncer."""
    with Client(server.url) as ann:
        ann.request_code(phone)
        ann.sign_in(phone, server.code_for(phone, after=1), "laptop")
        response = httpx.post(
            f"{server.url}/v1/app-passwords",
            json={"label": "vdirsyncer"},
            headers={"Authorization": f"Bearer {ann.token}"},
        )
    assert response.status_code == 201, response.text
    return str(response.json()["password"])


def vdirsyncer_config(
    tmp_path: Path, url: str, user: str, password: str, *, vcard_4: bool = False
) -> Path:
    config = tmp_path / "vdirsyncer.conf"
    # vdirsyncer's carddav storage asks for vCard 4.0 in its multiget's address-data.
    version_option = "use_vcard_4 = true" if vcard_4 else ""
    config.write_text(
        f"""
[general]
status_path = "{tmp_path / "status"}/"

[pair circlebook]
a = "circlebook_server"
b = "circlebook_folder"
collections = ["from a"]
conflict_resolution = "a wins"
metadata = ["displayname"]
implicit = "create"

[storage circlebook_server]
type = "carddav"
url = "{url}/"
username = "{user}"
password = "{password}"
read_only = true
{version_option}

[storage circlebook_folder]
type = "filesystem"
path = "{tmp_path / "contacts"}/"
fileext = ".vcf"
"""
    )
    return config


def run(tmp_path: Path, *args: str) -> str:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    result = subprocess.run(
        [*args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        input="y\n" * 20,
    )
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def sync(tmp_path: Path, config: Path) -> None:
    vdirsyncer = str(tool("vdirsyncer"))
    run(tmp_path, vdirsyncer, "-c", str(config), "discover")
    run(tmp_path, vdirsyncer, "-c", str(config), "sync")
    run(tmp_path, vdirsyncer, "-c", str(config), "metasync")


def folder(tmp_path: Path, version: str = "3.0") -> dict[str, tuple[str, set[str]]]:
    """Each synced collection: (its displayname, the FN of every card in it), every card
    in `version`."""
    found = {}
    for collection in sorted((tmp_path / "contacts").iterdir()):
        names = set()
        for card in collection.glob("*.vcf"):
            text = card.read_text()
            parsed = vobject.readOne(text)
            assert parsed.version.value == version
            assert parsed.uid.value.endswith("@circlebook")
            if version == "4.0":
                assert "TEL;VALUE=uri;TYPE=cell:tel:+" in text
            names.add(parsed.fn.value)
        found[collection.name] = ((collection / "displayname").read_text().strip(), names)
    return found


def test_vdirsyncer_syncs_exactly_what_the_member_sees_and_then_the_owners_changes(
    tmp_path: Path,
) -> None:
    with live_server(tmp_path) as server:
        world = build(server)
        config = vdirsyncer_config(tmp_path, server.url, ANN, app_password(server, ANN))

        sync(tmp_path, config)
        assert folder(tmp_path) == {
            world.class_id: ("Class of 2012", {"Olivia", "Ann", "Bo"}),
            world.chess_id: ("Chess club", {"Olivia", "Ann", "Di"}),
        }

        world.owner.remove_entry(world.class_id, world.entries["Bo"])
        world.owner.update_entry(world.chess_id, world.chess_entries["Di"], name="Di Renamed")
        world.owner.rename_book(world.chess_id, "Chess club 2013")
        sync(tmp_path, config)
        assert folder(tmp_path) == {
            world.class_id: ("Class of 2012", {"Olivia", "Ann"}),
            world.chess_id: ("Chess club 2013", {"Olivia", "Ann", "Di Renamed"}),
        }
        world.owner.close()

    khard_config = tmp_path / "khard.conf"
    khard_config.write_text(
        f"""
[addressbooks]
[[circlebook]]
path = {tmp_path / "contacts"}/*/
type = discover

[general]
editor = true
merge_editor = true

[contact table]
display = formatted_name
"""
    )
    listed = run(tmp_path, str(tool("khard")), "-c", str(khard_config), "list", "--parsable")
    rows = [line.split("\t") for line in listed.splitlines() if line.strip()]
    assert sorted(row[1] for row in rows) == ["Ann", "Ann", "Di Renamed", "Olivia", "Olivia"]
    assert {row[2] for row in rows} == {world.class_id, world.chess_id}


def test_vdirsyncer_syncs_a_book_as_vcard_4_and_then_the_owners_changes(
    tmp_path: Path,
) -> None:
    with live_server(tmp_path) as server:
        world = build(server)
        password = app_password(server, ANN)
        config = vdirsyncer_config(tmp_path, server.url, ANN, password, vcard_4=True)

        sync(tmp_path, config)
        assert folder(tmp_path, "4.0") == {
            world.class_id: ("Class of 2012", {"Olivia", "Ann", "Bo"}),
            world.chess_id: ("Chess club", {"Olivia", "Ann", "Di"}),
        }

        world.owner.update_entry(world.class_id, world.entries["Bo"], name="Bo Renamed")
        world.owner.remove_entry(world.chess_id, world.chess_entries["Di"])
        sync(tmp_path, config)
        assert folder(tmp_path, "4.0") == {
            world.class_id: ("Class of 2012", {"Olivia", "Ann", "Bo Renamed"}),
            world.chess_id: ("Chess club", {"Olivia", "Ann"}),
        }
        world.owner.close()
