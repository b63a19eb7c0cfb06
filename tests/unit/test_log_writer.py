"""Log lines are written by the log-writer thread, in order, with nothing lost."""

from __future__ import annotations

import io
import logging
import threading

import orjson

from circlebook.observe.log_writer import BackgroundStreamHandler
from circlebook.observe.logs import REQUEST_ID, JsonLines, log_config


class GatedStream(io.StringIO):
    """A stream whose writes wait until `opened` is set, and that notes who wrote."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = threading.Event()
        self.writers: set[str] = set()

    def write(self, text: str) -> int:
        self.opened.wait(timeout=10)
        self.writers.add(threading.current_thread().name)
        return super().write(text)


def logger_to(stream: io.StringIO, name: str) -> tuple[logging.Logger, BackgroundStreamHandler]:
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger(f"circlebook.test.{name}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, handler


def test_logging_returns_while_the_stream_is_blocked_and_the_line_follows() -> None:
    stream = GatedStream()
    logger, handler = logger_to(stream, "blocked")
    logger.info("the disk is slow")  # returns although the write cannot finish yet
    assert stream.getvalue() == ""
    stream.opened.set()
    handler.flush()
    assert [orjson.loads(line)["event"] for line in stream.getvalue().splitlines()] == [
        "the disk is slow"
    ]
    assert stream.writers == {"log-writer"}


def test_every_line_from_many_threads_is_written_in_each_threads_order() -> None:
    stream = io.StringIO()
    logger, handler = logger_to(stream, "many")

    def say(who: int) -> None:
        for n in range(500):
            logger.info("%d %d", who, n)

    threads = [threading.Thread(target=say, args=(who,)) for who in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handler.flush()
    said = [orjson.loads(line)["event"].split() for line in stream.getvalue().splitlines()]
    assert len(said) == 2000
    for who in range(4):
        assert [int(n) for w, n in said if int(w) == who] == list(range(500))


def test_a_line_keeps_the_request_id_of_the_code_that_logged_it() -> None:
    stream = io.StringIO()
    logger, handler = logger_to(stream, "request")
    token = REQUEST_ID.set("rid-0001")
    try:
        logger.info("inside a request")
    finally:
        REQUEST_ID.reset(token)
    handler.flush()
    assert orjson.loads(stream.getvalue())["request_id"] == "rid-0001"


def test_both_log_formats_write_every_line_off_the_logging_thread() -> None:
    for log_format in ("text", "json"):
        handlers = log_config(log_format)["handlers"]
        assert {handler["class"] for handler in handlers.values()} == {
            "circlebook.observe.log_writer.BackgroundStreamHandler"
        }
