"""Settings: read once at start-up from CIRCLEBOOK_* variables, validated, then frozen."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from platformdirs import user_data_path
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from circlebook.phonebook.numbers import checked_region

PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class SettingsError(Exception):
    """Settings that cannot be run with; the message says which and why."""


def default_database_url() -> str:
    return f"sqlite:///{user_data_path('circlebook') / 'circlebook.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIRCLEBOOK_", frozen=True, extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    sms: str = "console"
    secret_key: SecretStr | None = None
    region: str = "CN"
    invites_per_day: PositiveInt = 500
    invitation_ttl_days: PositiveInt = 30
    # Days a sync token stays answerable as a delta (older: 410, fetch in full);
    # 0 keeps the history of removals forever.
    sync_token_days: NonNegativeInt = 90
    max_invitees_per_request: PositiveInt = 1000
    max_body_bytes: PositiveInt = 1024 * 1024
    # Answers at least this long are compressed for clients that accept zstd or
    # gzip (smaller ones gain less than the header costs); 0 turns compression off.
    compress_min_bytes: NonNegativeInt = 1024
    code_ttl_seconds: PositiveInt = 600
    code_max_attempts: PositiveInt = 5
    codes_per_window: PositiveInt = 3
    code_window_seconds: PositiveInt = 900
    # Abuse limits per client address and per number; 0 turns each off.
    code_requests_per_client: NonNegativeInt = 10
    signin_failures_per_client: NonNegativeInt = 20
    signin_failures_per_phone: NonNegativeInt = 10
    sms_per_hour: NonNegativeInt = 1000
    # A session ends unused for this many days, or this many after sign-in; 0: never.
    session_idle_days: NonNegativeInt = 90
    session_max_days: NonNegativeInt = 365
    # Seconds this process may go on trusting a token or app password it has just
    # checked, so that polls skip the database; never more than 1 (a sign-out or a
    # revocation elsewhere must count within a second everywhere); 0: off.
    session_cache_seconds: float = Field(default=1.0, ge=0, le=1)
    # Seconds this process may answer a member's book header (title, version, count:
    # `GET /v1/books/{id}`, the CardDAV CTag) from memory; a change made here counts at
    # once, one made elsewhere within this time; never more than 1; 0: off.
    book_cache_seconds: float = Field(default=1.0, ge=0, le=1)
    # Accepts into one book that arrive together share one transaction and one
    # flush to disk, at most this many; 0 or 1: each commits alone.
    group_commit_max: NonNegativeInt = 64
    broker: str = ""
    # Instances that should hear each other use the same channel; separate
    # deployments (or test runs) sharing one Redis or PostgreSQL use different ones.
    broker_channel: str = Field(default="circlebook_events", pattern=r"^[a-z0-9_]{1,48}$")
    events_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    # Event streams one account may hold open at once, counted by each server
    # process on its own; 0 turns the limit off.
    streams_per_account: int = Field(default=20, ge=0)
    # Wrong CardDAV passwords one user name, or one client address, may send per
    # window before waiting; 0 turns the limit off.
    dav_failures_per_window: int = Field(default=10, ge=0)
    dav_failure_window_seconds: PositiveInt = 300
    # Cards' rendered parts of CardDAV answers each process keeps (dav.card_cache);
    # 0 keeps none.
    dav_card_cache_size: NonNegativeInt = 50_000
    # Entry rows of books read whole that each process keeps for the next full fetch
    # of the same book at the same version (services.book_rows); 0 keeps none.
    book_rows_cache_size: NonNegativeInt = 50_000
    # Where invitation links point, as people outside reach the server
    # (https://book.example.org); empty: the address each request came to.
    public_url: str = ""
    # Whether the server itself texts new invitees (off: the owner's phone sends the link).
    invite_sms: Literal["on", "off"] = "off"
    # The server's invitation texts one number may get per 30 days, across all owners.
    invite_texts_per_number: int = Field(default=3, ge=0)
    # The bearer secret of the SMS provider's webhook for replies; empty: no webhook.
    sms_inbound_secret: SecretStr = SecretStr("")
    # Web Push to phones and browsers that subscribed (RFC 8030); on needs nothing external.
    push: Literal["on", "off"] = "on"
    # How long a push service keeps a message for an offline phone (its TTL), and how
    # long a message the push service refused is retried; 0: now or never.
    push_ttl_seconds: int = Field(default=86400, ge=0, le=28 * 86400)
    # Messages each server process sends at once (one thread each).
    push_concurrency: PositiveInt = 8
    # Lets push endpoints be plain http:// on this machine; for tests and benchmarks only.
    push_allow_loopback: bool = False
    # WebDAV-Push: changes within this many seconds of a message to one registration
    # go out together in the next; 0 sends one message per change.
    dav_push_merge_seconds: int = Field(default=5, ge=0, le=3600)
    # How often each process's push sender looks for WebDAV-Push messages due (and
    # for Web Push messages to retry): a change waits up to this long, plus the merge.
    dav_push_interval_seconds: float = Field(default=2.0, gt=0, le=3600)
    # WebDAV-Push registrations one account may hold (renewing one is always
    # allowed); 0: no limit.
    dav_push_max_registrations: int = Field(default=100, ge=0)
    # The longest a WebDAV-Push registration lives unrenewed; the draft asks for 3 days at least.
    dav_push_max_days: int = Field(default=30, ge=3, le=365)
    # The server's VAPID key (RFC 8292): a P-256 private key as base64url (32 bytes) or
    # PEM; unset: generated beside the SQLite database, or derived from the secret key.
    vapid_private_key: SecretStr | None = None
    # Who push services may contact about this server (a mailto: or https: URL);
    # empty: CIRCLEBOOK_PUBLIC_URL, else a placeholder address.
    vapid_subject: str = Field(default="", pattern=r"^$|^(mailto:|https://)\S+$")
    # GET /metrics in the Prometheus text format; off: no counting at all, and a 404.
    metrics: Literal["on", "off"] = "off"
    # The bearer token a scraper must send to /metrics; empty: no token asked.
    metrics_token: SecretStr = SecretStr("")
    # text: the log lines as always; json: one JSON object per line, for log collectors.
    log_format: Literal["text", "json"] = "text"

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        return checked_region(value)  # its UnknownRegion is a ValueError, which pydantic reports

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", value):
            raise ValueError("use an absolute http(s):// URL such as https://book.example.org")
        return value

    @field_validator("sms_inbound_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value()) < 16:
            raise ValueError("use 16 characters or more, or leave it empty for no webhook")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError as exc:
            raise ValueError(f"{value!r} is not a database URL") from exc
        if backend not in ("sqlite", "postgresql"):
            raise ValueError("use a sqlite:///PATH or postgresql:// URL")
        return value

    @field_validator("sms")
    @classmethod
    def _known_sms(cls, value: str) -> str:
        if value == "console" or value.startswith(("file:", "http://", "https://")):
            if value == "file:":
                raise ValueError("file: needs a path, as in file:/var/lib/circlebook/outbox.jsonl")
            return value
        raise ValueError("use console, file:PATH or an http(s):// gateway URL")

    @field_validator("broker")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if value in ("", "local", "postgres") or value.startswith(("redis://", "rediss://")):
            return value
        raise ValueError("use local, postgres or a redis:// URL (empty: local on SQLite, postgres)")

    @property
    def broker_kind(self) -> str:
        """local, postgres or redis: what carries events between instances."""
        if self.broker.startswith(("redis://", "rediss://")):
            return "redis"
        return self.broker or ("local" if self.is_sqlite else "postgres")

    @model_validator(mode="after")
    def _secret_for_shared_databases(self) -> Settings:
        key = self.secret_key.get_secret_value() if self.secret_key else None
        if key is not None and len(key) < 32:
            raise ValueError("CIRCLEBOOK_SECRET_KEY must be at least 32 characters")
        if key is None and not self.is_sqlite:
            # Several instances share one PostgreSQL: each generating its own key
            # would make every token valid on one instance only.
            raise ValueError("set CIRCLEBOOK_SECRET_KEY (32+ characters) when using PostgreSQL")
        if self.broker == "postgres" and self.is_sqlite:
            raise ValueError("CIRCLEBOOK_BROKER=postgres needs a PostgreSQL database URL")
        return self

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        database = make_url(self.database_url).database
        return Path(database) if database and database != ":memory:" else None


def load_settings(**overrides: object) -> Settings:
    """Read the environment (plus explicit overrides); raise SettingsError with a clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"CIRCLEBOOK_{'_'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(problems) from None


def is_loopback(host: str) -> bool:
    """Whether listening on `host` keeps the server to this machine (127.0.0.0/8, ::1)."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def console_sms_exposure(settings: Settings) -> Literal["refuse", "warn"] | None:
    """What to make of the console SMS sender, which logs every sign-in code.

    On loopback it is the development default. Listening beyond this machine it
    would let anyone who reads the log sign in as anyone: refused when it is only
    the default (someone forgot to set CIRCLEBOOK_SMS), allowed with a warning
    when CIRCLEBOOK_SMS=console was chosen on purpose.
    """
    if settings.sms != "console" or is_loopback(settings.host):
        return None
    return "warn" if "sms" in settings.model_fields_set else "refuse"


def secret_key_bytes(settings: Settings) -> bytes:
    """The key that signs tokens; in development, generated once and kept beside the database."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.sqlite_path
    if path is None:
        # An in-memory database lives only as long as the process, so may its key.
        return secrets.token_bytes(32)
    key_file = path.parent / (path.name + ".secret")
    if not key_file.exists():
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip().encode()


def vapid_key(settings: Settings, secret_key: bytes) -> ec.EllipticCurvePrivateKey:
    """The server's VAPID key: given, else generated once beside the SQLite database (0600).

    On PostgreSQL, without a key given, every instance derives the same key from
    the shared secret key (HKDF), so a browser's subscription works with all of them.
    """
    if settings.vapid_private_key is not None:
        return _parse_vapid(settings.vapid_private_key.get_secret_value())
    path = settings.sqlite_path
    if path is None:
        return _derived_vapid(secret_key)
    key_file = path.parent / (path.name + ".vapid")
    if not key_file.exists():
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    return _parse_vapid(key_file.read_text())


def _parse_vapid(text: str) -> ec.EllipticCurvePrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = base64.b64decode(
                text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
            )
            if len(raw) != 32:
                raise ValueError("a raw key is 32 bytes")
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError as exc:
        raise SettingsError(
            f"CIRCLEBOOK_VAPID_PRIVATE_KEY: not a P-256 private key ({exc})"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SettingsError("CIRCLEBOOK_VAPID_PRIVATE_KEY: not a P-256 private key")
    return key


def _derived_vapid(secret_key: bytes) -> ec.EllipticCurvePrivateKey:
    # 48 bytes reduced modulo the group order leave a bias below 2**-128.
    seed = HKDF(hashes.SHA256(), 48, salt=None, info=b"circlebook vapid key").derive(secret_key)
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(int.from_bytes(seed, "big") % (order - 1) + 1, ec.SECP256R1())


def vapid_subject(settings: Settings) -> str:
    """The VAPID `sub` claim (RFC 8292, 2.1): chosen, else the public https:// address."""
    if settings.vapid_subject:
        return settings.vapid_subject
    if re.match(r"^https://[\w-]+(\.[\w-]+)+$", settings.public_url):
        return settings.public_url
    return "mailto:push@circlebook.invalid"
