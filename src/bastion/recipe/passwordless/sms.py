"""SMS delivery: a small interface to plug any provider in, plus console and in-memory backends.

bastion ships no provider client. An SMS backend is any object with
``send(message: SmsMessage)`` (a plain function or a coroutine function); set
``in_background = True`` on it to have each message handed over on a worker thread, as the SMTP
email backend does, so a slow provider neither delays the response nor reveals anything by
timing. Delivery failures are logged (never with the message, which holds a live code) and do
not change an endpoint's answer.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TextIO, runtime_checkable

from bastion.bridge import maybe_await

__all__ = ["ConsoleSmsBackend", "InMemorySmsOutbox", "SmsBackend", "SmsMessage", "deliver_sms"]

logger = logging.getLogger("bastion.sms")
_background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bastion-sms")


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """A text message to one E.164 number."""

    to: str
    text: str
    kind: str = ""
    """What it is for (``passwordless-login``)."""


@runtime_checkable
class SmsBackend(Protocol):
    """Sends text messages (the interface a provider integration implements)."""

    def send(self, message: SmsMessage) -> Awaitable[None] | None:
        """Deliver ``message`` or raise."""
        ...


class ConsoleSmsBackend:
    """Prints messages, codes included, for local development.

    When the app is not served from localhost (``production``), only the recipient is printed:
    a console that gets logged would otherwise keep live codes.
    """

    in_background = False

    def __init__(self, stream: TextIO | None = None, *, production: bool | None = None) -> None:
        self.stream = stream
        self.production = production

    def send(self, message: SmsMessage) -> None:
        stream = self.stream or sys.stdout
        production = self.production
        if production is None:
            from bastion.runtime import current_app

            production = not current_app().app_info.is_local()
        if production:
            logger.warning("ConsoleSmsBackend cannot deliver SMS in production; plug a provider in")
            print(f"[bastion sms] to {message.to} (text withheld)", file=stream)
            return
        print(f"[bastion sms] to {message.to}: {message.text}", file=stream, flush=True)


class InMemorySmsOutbox:
    """Keeps every message in :attr:`messages`, for tests."""

    in_background = False

    def __init__(self) -> None:
        self.messages: list[SmsMessage] = []
        self._lock = threading.Lock()

    def send(self, message: SmsMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def to(self, number: str) -> list[SmsMessage]:
        """Messages sent to ``number``, oldest first."""
        with self._lock:
            return [m for m in self.messages if m.to == number]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


def _send_logged(backend: SmsBackend, message: SmsMessage) -> None:
    try:
        if backend.send(message) is not None:
            raise TypeError("a background SMS backend's send() must be synchronous")
    except Exception:
        logger.exception("sending the %s SMS failed", message.kind or "bastion")


async def deliver_sms(backend: SmsBackend, message: SmsMessage) -> None:
    """Send ``message``; failures are logged, never raised to the endpoint."""
    if getattr(backend, "in_background", False):
        _background.submit(_send_logged, backend, message)
        return
    try:
        await maybe_await(backend.send(message))
    except Exception:
        logger.exception("sending the %s SMS failed", message.kind or "bastion")
