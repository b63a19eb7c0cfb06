"""What a page tells a person: domain errors and finished actions, as translatable messages.

Messages are English msgids marked with `N_` where they are written, and are
translated when a page is rendered, in the language of that page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from circlebook.domain import errors
from circlebook.services.ports import DeliveryError


# gettext's name for a marker the catalog tools extract (Babel's default keywords).
def N_(text: str) -> str:  # noqa: N802
    """Mark a message for the catalog; it is translated when the page is rendered."""
    return text


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    values: Mapping[str, object] = field(default_factory=dict)


GENERIC = N_("Something went wrong. Please try again.")

# Walked in order: the first row whose class matches and whose field (the last part
# of the error's field, such as "phone" in "invitees[3].phone") matches, or is None, wins.
EXPLANATIONS: list[tuple[type[errors.CirclebookError], str | None, str]] = [
    (errors.InvalidPhoneError, None, N_("This is not a valid phone number.")),
    (errors.InvalidInputError, "code", N_("The code is the 6 digits in the text message.")),
    (
        errors.InvalidInputError,
        "title",
        N_("A title needs 1 to 200 characters, without control characters."),
    ),
    (
        errors.InvalidInputError,
        "name",
        N_("A name needs 1 to 100 characters, without control characters."),
    ),
    (
        errors.InvalidInputError,
        "label",
        N_("A device name needs 1 to 100 characters, without control characters."),
    ),
    (
        errors.InvalidInputError,
        "tags",
        N_("Tags are words of letters, digits, '.', '-' or '_', separated by commas; at most 16."),
    ),
    (
        errors.InvalidInputError,
        "confirm",
        N_("This is not your number: type the number you sign in with."),
    ),
    (errors.InvalidInputError, None, N_("This value is not allowed.")),
    (
        errors.InvalidCodeError,
        None,
        N_("This code is wrong or has expired. Check the text message, or ask for a new code."),
    ),
    (errors.NotAuthenticatedError, None, N_("Please sign in first.")),
    (
        errors.NotFoundError,
        None,
        N_("This is not here: it was answered, revoked or removed, or you are not in this book."),
    ),
    (errors.ForbiddenError, None, N_("Only the book's owner may do this.")),
    (errors.ConflictError, None, N_("The owner stays in the book until it is dissolved.")),
    (
        DeliveryError,
        None,
        N_("The text message could not be sent. Please try again in a moment."),
    ),
]


def field_of(exc: errors.CirclebookError) -> str | None:
    """The form field an error belongs to: the last part of its path, without indexes."""
    if exc.field is None:
        return None
    return exc.field.rsplit(".", 1)[-1].split("[", 1)[0]


def explain(exc: errors.CirclebookError) -> Message:
    if isinstance(exc, errors.TextBudgetSpentError):
        minutes = max(1, math.ceil(exc.retry_after / 60))
        text = N_("No text messages can go out just now. Try again in %(minutes)s min.")
        return Message(text, {"minutes": minutes})
    if isinstance(exc, errors.RateLimitedError):
        minutes = max(1, math.ceil(exc.retry_after / 60))
        return Message(N_("Too many tries. Try again in %(minutes)s min."), {"minutes": minutes})
    if isinstance(exc, errors.TooManyInviteesError):
        return Message(N_("At most %(limit)s people at once: pick fewer."), {"limit": exc.limit})
    name = field_of(exc)
    for kind, where, text in EXPLANATIONS:
        if isinstance(exc, kind) and where in (None, name):
            return Message(text)
    return Message(GENERIC)


# What a page says after an action that redirected to it: ?done=KEY, from this set only,
# so that no text from the address is ever shown.
NOTICES = {
    "accepted": N_("You joined the book."),
    "declined": N_("You declined. The number and name the invitation held are deleted."),
    "left": N_("You left the book."),
    "dissolved": N_("The book is dissolved."),
    "renamed": N_("The title is saved."),
    "tags": N_("The tags are saved."),
    "removed": N_("The member is removed."),
    "revoked": N_("The invitation is revoked."),
    "signed_out": N_("You are signed out."),
    "device_revoked": N_("The app password is revoked: that device can no longer sign in."),
    "handed_on": N_("The book has a new owner; you stay in it as a member."),
    "session_ended": N_("That device is signed out."),
    "others_signed_out": N_("You are signed out everywhere else."),
    "invitations_off": N_("Nobody can invite your number any more."),
    "invitations_on": N_("People can invite your number again."),
    "account_deleted": N_(
        "Your account is deleted: circlebook no longer holds your number or name."
    ),
}


def notice(key: str | None) -> Message | None:
    text = NOTICES.get(key or "")
    return Message(text) if text else None


OUTCOMES = {
    "invited": N_("Invited"),
    "already_member": N_("Already in the book"),
    "already_invited": N_("Already invited"),
    "opted_out": N_("Not invited: this number asked never to be invited"),
}
# Why an invitee was not invited, by the field at fault.
REFUSALS = {
    "phone": N_("Not invited: not a valid phone number"),
    "tags": N_("Not invited: a tag is not allowed"),
    "name": N_("Not invited: the name is not allowed"),
}


def outcome_message(status: str, field: str | None) -> Message:
    """What became of one invitee, as `create_book` reported it."""
    if status in OUTCOMES:
        return Message(OUTCOMES[status])
    where = field.rsplit(".", 1)[-1] if field else ""
    return Message(REFUSALS.get(where, N_("Not invited")))


# The names the server itself gives the sessions it opens, shown in the page's language;
# a name a client chose is shown as it is.
DEVICE_NAMES = {
    "web browser": N_("web browser"),
    "invitation link": N_("invitation link"),
}


def device_name(device: str) -> Message:
    return Message(DEVICE_NAMES.get(device, "%(device)s"), {"device": device})
