"""The languages circlebook speaks, and which of them a request asks for."""

from __future__ import annotations

DEFAULT = "en"
# BCP 47 tags of the languages written.
SPOKEN = ("en", "zh-Hans")


def _match(tag: str) -> str | None:
    tag = tag.strip().lower().replace("_", "-")
    if tag.startswith("zh"):
        # Only Simplified Chinese is written yet; a Traditional reader still reads it
        # better than English.
        return "zh-Hans"
    if tag == "en" or tag.startswith("en-") or tag == "*":
        return "en"
    return None


def from_accept_language(header: str) -> str:
    """The best of our languages for an Accept-Language header (RFC 9110, 12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = _match(tag)
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else DEFAULT


def chosen_or_accepted(choice: str | None, accept_language: str) -> str:
    """A language the person chose (on the pages), else the best for their Accept-Language."""
    if choice in SPOKEN:
        return choice
    return from_accept_language(accept_language)
