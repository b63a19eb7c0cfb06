"""One-time-code senders: console, file outbox, HTTP gateway."""

from __future__ import annotations

from circlebook.sms.background import BackgroundSender
from circlebook.sms.console import ConsoleSender
from circlebook.sms.gateway import GatewaySender
from circlebook.sms.outbox import FileOutboxSender

__all__ = ["BackgroundSender", "ConsoleSender", "FileOutboxSender", "GatewaySender"]
