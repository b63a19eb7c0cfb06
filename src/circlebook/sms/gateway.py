"""POSTs each message as JSON `{"to", "text"}` to an HTTP SMS gateway."""

from __future__ import annotations

import httpx

from circlebook.services.ports import DeliveryError


class GatewaySender:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, to: str, text: str) -> None:
        try:
            response = httpx.post(self.url, json={"to": to, "text": text}, timeout=self.timeout)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DeliveryError("the SMS gateway did not take the message; try again") from exc
