"""Log lines for people (text, as uvicorn writes them) or for machines (one JSON object a line).

Neither format carries personal data: requests are logged by their route
template (`/v1/invites/{token}/accept`), never by the path they came with.
"""

from __future__ import annotations

import copy
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from uvicorn.config import LOGGING_CONFIG

# The id of the request this code runs for; set by observe.requests for each request.
REQUEST_ID: ContextVar[str | None] = ContextVar("circlebook_request_id", default=None)

# The access log, written by observe.requests through uvicorn's access handler and text
# format; uvicorn's own access log, which would show raw paths, is turned off.
ACCESS_LOGGER = "circlebook.access"
# What the app's own lines looked like before they could be JSON (logging.basicConfig).
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"

LogFormat = Literal["text", "json"]
# Every line is written off the event loop (see observe.log_writer).
BACKGROUND_HANDLER = "circlebook.observe.log_writer.BackgroundStreamHandler"


class WithoutQueryString(logging.Filter):
    """Drops the query string from access-log lines: queries can carry personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client address, method, path with query, HTTP version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, event, and the request's fields.

    An access record (observe.requests) has `event` "request" with its route,
    method, status and duration; any other record has its message as `event`.
    The client's address is left out: it is personal data a collector need not hold.
    """

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        route = getattr(record, "route", None)
        if route is not None:
            fields["event"] = "request"
            fields["method"] = getattr(record, "method", None)
            fields["route"] = route
            fields["status"] = getattr(record, "status", None)
            fields["duration"] = getattr(record, "duration", None)
        else:
            fields["event"] = record.getMessage()
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id is not None:
            fields["request_id"] = request_id
        if record.exc_info:
            fields["error"] = self.formatException(record.exc_info)
        return orjson.dumps(fields).decode()


def lean_records() -> None:
    """Leave out of every log record what no line of ours shows: the caller's file and
    line, and the thread and process. The logging HOWTO's own optimisations; each
    request's access line built them, and they cost about a tenth of its logging."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def log_config(log_format: LogFormat = "text") -> dict[str, Any]:
    """uvicorn's logging plus the app's own loggers, in `log_format`.

    Text is uvicorn's own configuration (with query strings kept out of the
    access log) and the app's lines as `TEXT_FORMAT`; json sends every line,
    uvicorn's and the app's, through `JsonLines`.
    """
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["without_query"] = {"()": WithoutQueryString}
    config["handlers"]["access"]["filters"] = ["without_query"]
    config["formatters"]["app"] = {"format": TEXT_FORMAT}
    config["handlers"]["app"] = {
        "formatter": "app",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    if log_format == "json":
        config["formatters"] = {"json": {"()": JsonLines}}
        for handler in config["handlers"].values():
            handler["formatter"] = "json"
    config["loggers"][ACCESS_LOGGER] = {"handlers": ["access"], "level": "INFO", "propagate": False}
    # Alembic says which plugins it loaded each time a process imports it: noise.
    config["loggers"]["alembic.runtime.plugins"] = {"level": "WARNING"}
    config["root"] = {"handlers": ["app"], "level": "INFO"}
    for handler in config["handlers"].values():
        if handler.get("class") == "logging.StreamHandler":
            handler["class"] = BACKGROUND_HANDLER
    return config
