"""create_app(settings): the one place that chooses concrete adapters and wires them."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from circlebook import __version__
from circlebook.api import problems
from circlebook.api.limits import BodyLimit
from circlebook.api.routes import auth, books, entries, health, invitations
from circlebook.services.ports import Clock, Policy, Runtime, SmsSender, SystemClock
from circlebook.settings import Settings, secret_key_bytes
from circlebook.sms import ConsoleSender, FileOutboxSender, GatewaySender
from circlebook.storage.database import make_engine
from circlebook.storage.unit_of_work import SqlUnitOfWorkFactory


def sms_sender(spec: str) -> SmsSender:
    if spec.startswith("file:"):
        return FileOutboxSender(Path(spec.removeprefix("file:")))
    if spec.startswith(("http://", "https://")):
        return GatewaySender(spec)
    return ConsoleSender()


def policy_of(settings: Settings) -> Policy:
    return Policy(
        region=settings.region,
        code_ttl_seconds=settings.code_ttl_seconds,
        code_max_attempts=settings.code_max_attempts,
        codes_per_window=settings.codes_per_window,
        code_window_seconds=settings.code_window_seconds,
        invites_per_day=settings.invites_per_day,
        invitation_ttl_days=settings.invitation_ttl_days,
    )


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    sms: SmsSender | None = None,
) -> FastAPI:
    """Build the ASGI app. The database must already be migrated (see `circlebook migrate`)."""
    engine = engine or make_engine(settings.database_url)
    runtime = Runtime(
        uow=SqlUnitOfWorkFactory(engine),
        sms=sms or sms_sender(settings.sms),
        clock=clock or SystemClock(),
        secret_key=secret_key_bytes(settings),
        policy=policy_of(settings),
    )
    app = FastAPI(
        title="circlebook",
        version=__version__,
        description="A shared address book built by consent.",
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.engine = engine
    problems.install(app)
    for module in (health, auth, books, invitations, entries):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
