"""Radicale and Xandikos, the CardDAV servers people run, installed and started for a comparison.

They are installed from PyPI into a virtualenv of their own (under
`.bench-peers/`, git-ignored, kept for the next run), never into the project's
environment, and each is started on 127.0.0.1 with a free port and a storage
directory of its own that is removed with the run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import seed
from bench.dav_timings import XML, AddressBook, expect
from bench.server import _die_with_parent, _stop, _tail, free_port

PACKAGES = ("radicale", "xandikos")
VENV = Path(__file__).resolve().parent.parent / ".bench-peers" / "venv"
STARTUP_TIMEOUT = 60.0
RADICALE_USER = ("bench", "bench")
MAX_CONNECTIONS = 256


def peer_venv(venv: Path = VENV, say: Callable[[str], None] = print) -> Path:
    """The virtualenv holding Radicale and Xandikos, made and filled on first use; its bin/."""
    stamp = venv / ".installed"
    wanted = " ".join(PACKAGES)
    if stamp.exists() and stamp.read_text() == wanted:
        return venv / "bin"
    say(f"installing {wanted} from PyPI into {venv} (once; kept for the next run)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    # pip's chatter is shown only if the install fails.
    done = subprocess.run([*pip, *PACKAGES], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"installing {wanted} failed:\n{done.stdout}\n{done.stderr}")
    stamp.write_text(wanted)
    return venv / "bin"


def versions(bin_dir: Path) -> dict[str, str]:
    code = "import importlib.metadata as m, sys; print(*(m.version(p) for p in sys.argv[1:]))"
    out = subprocess.run(
        [str(bin_dir / "python"), "-c", code, *PACKAGES], check=True, capture_output=True, text=True
    )
    return dict(zip(PACKAGES, out.stdout.split(), strict=True))


@dataclass(frozen=True)
class Peer:
    book: AddressBook
    pid: int
    version: str
    # How long putting the people in took, not counted in any figure.
    seed_s: float


def vcard(n: int, name: str | None = None) -> str:
    """Bulk person `n` as a vCard 3.0, the fields circlebook's CardDAV serves (FN, N, TEL)."""
    full = name or f"Member {n:05d}"
    return (
        "BEGIN:VCARD\r\nVERSION:3.0\r\n"
        f"UID:member-{n}\r\nFN:{full}\r\nN:;{full};;;\r\n"
        f"TEL;TYPE=CELL:{seed.member_phone(n)}\r\nEND:VCARD\r\n"
    )


def put_card(dav: httpx.Client, book: AddressBook, n: int, name: str | None = None) -> None:
    """PUT person `n` (renamed to `name` if given) as one vCard, as a contacts app does."""
    headers = {"Content-Type": "text/vcard; charset=utf-8"}
    path = f"{book.path}member-{n}.vcf"
    expect(dav.put(path, content=vcard(n, name), headers=headers), 201, 204)


def put_all(book: AddressBook, size: int) -> None:
    """Put `size` people as one upload of the whole collection, which Radicale takes in bulk."""
    body = "".join(vcard(n) for n in range(size))
    with book.client() as dav:
        headers = {"Content-Type": "text/vcard; charset=utf-8"}
        expect(dav.put(book.path, content=body, headers=headers), 201, 204)


def commit_all(collection: Path, size: int) -> None:
    """Commit `size` people to a Xandikos address book's git repository in one commit.

    Xandikos keeps each card as one file in the collection's git tree and
    commits every PUT, rewriting the whole index each time: PUT one by one,
    1,000 cards took over a minute here and 10,000 would take most of an hour.
    The files written here are those its PUT writes (one `{uid}.vcf` each).
    """
    for n in range(size):
        (collection / f"member-{n}.vcf").write_text(vcard(n), newline="")
    git = [
        "git",
        "-C",
        str(collection),
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@localhost",
    ]
    subprocess.run([*git, "add", "-A"], check=True, capture_output=True)
    subprocess.run(
        [*git, "commit", "-q", "-m", f"Add {size} people"], check=True, capture_output=True
    )


def _wait_until_up(proc: subprocess.Popen[bytes], book: AddressBook, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with book.client() as dav:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{book.server} exited with {proc.returncode}:\n{_tail(log)}")
            try:
                dav.request("PROPFIND", "/", headers={**XML, "Depth": "0"})
                return
            except httpx.TransportError:
                time.sleep(0.1)
    raise RuntimeError(
        f"{book.server} did not answer within {STARTUP_TIMEOUT:.0f} s:\n{_tail(log)}"
    )


@contextmanager
def _process(argv: list[str], book: AddressBook, log: Path) -> Iterator[int]:
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        try:
            _wait_until_up(proc, book, log)
            yield proc.pid
        finally:
            _stop(proc)


@contextmanager
def radicale(bin_dir: Path, workdir: Path, version: str, size: int) -> Iterator[Peer]:
    """Radicale with `auth type = none` (any user name, any password) and files on disk,
    holding `size` people uploaded in one PUT of the collection.

    Its default of 8 connections at once would drop the rest of a concurrent
    client's; it is raised so that it is asked what the others are asked.
    """
    port = free_port()
    config = workdir / "radicale.conf"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        f"max_connections = {MAX_CONNECTIONS}\n"
        "[auth]\ntype = none\n"
        "[storage]\ntype = multifilesystem\n"
        f"filesystem_folder = {workdir / 'radicale-storage'}\n"
        "[logging]\nlevel = warning\n"
    )
    book = AddressBook(
        "Radicale", f"http://127.0.0.1:{port}", f"/{RADICALE_USER[0]}/book/", RADICALE_USER
    )
    argv = [str(bin_dir / "radicale"), "--config", str(config)]
    with _process(argv, book, workdir / "radicale.log") as pid:
        mkcol = (
            '<d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>'
            "<d:resourcetype><d:collection/><c:addressbook/></d:resourcetype>"
            "</d:prop></d:set></d:mkcol>"
        )
        with book.client() as dav:
            expect(dav.request("MKCOL", book.path, content=mkcol, headers=XML), 201)
        t0 = time.perf_counter()
        put_all(book, size)
        yield Peer(book, pid, version, time.perf_counter() - t0)


@contextmanager
def xandikos(bin_dir: Path, workdir: Path, version: str, size: int) -> Iterator[Peer]:
    """Xandikos with its default address book (`--defaults`), a git repository on disk,
    holding `size` people: a first start lays the repository out, the people are
    committed to it (`commit_all`), and the server is started again over it."""
    port = free_port()
    storage = workdir / "xandikos-storage"
    argv = [
        str(bin_dir / "xandikos"),
        "serve",
        "--defaults",
        "-d",
        str(storage),
        "--state-dir",
        str(workdir / "xandikos-state"),
        "-l",
        "127.0.0.1",
        "-p",
        str(port),
        "--no-detect-systemd",
    ]
    book = AddressBook("Xandikos", f"http://127.0.0.1:{port}", "/user/contacts/addressbook/")
    log = workdir / "xandikos.log"
    t0 = time.perf_counter()
    with _process(argv, book, log):
        pass
    commit_all(storage / book.path.strip("/"), size)
    with _process(argv, book, log) as pid:
        yield Peer(book, pid, version, time.perf_counter() - t0)


Starter = Callable[[Path, int], AbstractContextManager[Peer]]


def starters(bin_dir: Path, found: dict[str, str]) -> dict[str, Starter]:
    """How to start each peer in a work directory with a number of people in it."""
    return {
        "Radicale": lambda workdir, size: radicale(bin_dir, workdir, found["radicale"], size),
        "Xandikos": lambda workdir, size: xandikos(bin_dir, workdir, found["xandikos"], size),
    }
