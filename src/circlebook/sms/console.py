"""Logs each message: the development default, where nobody has an SMS gateway."""

from __future__ import annotations

import logging

log = logging.getLogger("circlebook.sms")


class ConsoleSender:
    def send(self, to: str, text: str) -> None:
        log.warning("SMS to %s: %s", to, text)
