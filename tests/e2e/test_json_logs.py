"""CIRCLEBOOK_LOG_FORMAT=json: one JSON object a line, each request's id given back and logged."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from circlebook.app import create_app
from circlebook.notify import RedisBroker
from circlebook.observe.logs import JsonLines
from circlebook.settings import load_settings
from circlebook.storage import migrate
from circlebook.storage.database import make_engine
from tests.conftest import SECRET
from tests.e2e.live import live_server
from tests.e2e.test_server_process import free_port

OWNER, FRIEND = "+8613800138901", "+8613800138902"
NEW_ID = re.compile(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$")  # a version 4 UUID, as hex
ACCESS_FIELDS = {"time", "level", "event", "route", "method", "status", "duration", "request_id"}


def json_lines(log: Path) -> list[dict[str, Any]]:
    """Every line of the server's output, each parsed as JSON."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_json_lines_carry_route_status_duration_and_the_request_id(tmp_path: Path) -> None:
    with live_server(tmp_path, log_format="json") as server:
        http = server.http
        given = http.get("/v1/health", headers={"X-Request-ID": "lb-7f3a-0001"})
        assert given.headers["x-request-id"] == "lb-7f3a-0001"
        too_long = http.get("/v1/health", headers={"X-Request-ID": "x" * 129})
        assert NEW_ID.match(too_long.headers["x-request-id"])
        # Every kind of answer carries one: JSON, a problem, DAV, a web page, a 404.
        answers = [
            http.get("/v1/books"),
            http.request("PROPFIND", "/dav/", headers={"Depth": "0"}),
            http.get("/signin"),
            http.get(f"/v1/nothing/{OWNER}"),
        ]
        assert [a.status_code for a in answers] == [401, 401, 200, 404]
        ids = [a.headers["x-request-id"] for a in answers]
        assert all(NEW_ID.match(i) for i in ids) and len(set(ids)) == len(ids)
        # An invitation link's token is in the path: the log names the route instead.
        code = server.send_code(OWNER)
        signed = http.post("/v1/auth/sessions", json={"phone": OWNER, "code": code}).json()
        book = http.post(
            "/v1/books",
            json={"title": "Night shift", "invitees": [{"phone": FRIEND}]},
            headers={"Authorization": f"Bearer {signed['token']}"},
        ).json()
        token = book["outcomes"][0]["invite_url"].rsplit("/i/", 1)[1]
        assert http.post(f"/v1/invites/{token}/code").status_code == 202

    lines = json_lines(tmp_path / "server.log")
    access = [line for line in lines if line["event"] == "request"]
    assert all(set(line) >= ACCESS_FIELDS for line in access)
    assert all(isinstance(line["duration"], float) for line in access)
    first = next(line for line in access if line["request_id"] == "lb-7f3a-0001")
    assert (first["method"], first["route"], first["status"]) == ("GET", "/v1/health", 200)
    assert {line["request_id"] for line in access} >= {too_long.headers["x-request-id"], *ids}
    assert any(line["route"] == "/v1/invites/{token}/code" for line in access)
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # uvicorn's own, as JSON
    output = (tmp_path / "server.log").read_text()
    for secret in (token, OWNER, FRIEND, OWNER.removeprefix("+86"), "Night shift", book["id"]):
        assert secret not in output


def test_the_apps_own_lines_carry_the_request_id_they_were_written_for(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'circlebook.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    settings = load_settings(database_url=url, secret_key=SECRET)
    nobody = RedisBroker(f"redis://127.0.0.1:{free_port()}/0")
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("circlebook.ready")
    logger.addHandler(handler)
    try:
        client = TestClient(create_app(settings, engine=engine, broker=nobody))
        refused = client.get("/v1/ready", headers={"X-Request-ID": "probe-42"})
    finally:
        logger.removeHandler(handler)
        engine.dispose()
    assert refused.status_code == 503 and refused.headers["x-request-id"] == "probe-42"
    [line] = [json.loads(text) for text in sink.getvalue().splitlines()]
    assert line["request_id"] == "probe-42" and line["level"] == "warning"
    assert line["event"].startswith("readiness: the broker does not answer")
    assert {"time", "logger"} <= set(line)
