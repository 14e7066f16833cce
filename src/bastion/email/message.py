"""An email to send, and the interface every delivery backend implements."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["EmailBackend", "EmailMessage"]


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """A plain-text email with an optional HTML alternative."""

    to: str
    subject: str
    text: str
    html: str | None = None
    kind: str = ""
    """What the email is for (``password-reset``, ``email-verification``)."""


@runtime_checkable
class EmailBackend(Protocol):
    """Sends emails. ``send`` may be a plain function or a coroutine function.

    A backend whose ``in_background`` attribute is True (SMTP) is handed each message on a
    background thread, so a slow mail server neither delays the response nor reveals, by
    timing, whether an account exists.
    """

    def send(self, message: EmailMessage) -> Awaitable[None] | None:
        """Deliver ``message`` or raise."""
        ...
