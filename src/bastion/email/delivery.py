"""Handing a message to a backend without letting delivery break (or time) the request."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from bastion.bridge import maybe_await
from bastion.email.message import EmailBackend, EmailMessage

__all__ = ["deliver"]

logger = logging.getLogger("bastion.email")
_background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bastion-email")


def _send_logged(backend: EmailBackend, message: EmailMessage) -> None:
    try:
        result = backend.send(message)
        if result is not None:
            raise TypeError("a background email backend's send() must be synchronous")
    except Exception:
        # Never the message itself: it carries a live token.
        logger.exception("sending the %s email failed", message.kind or "bastion")


async def deliver(backend: EmailBackend, message: EmailMessage) -> None:
    """Send ``message``; failures are logged, never raised to the endpoint.

    Backends marked ``in_background`` get the message on a worker thread and the call returns
    at once; others are awaited (and must not suspend in sync mode).
    """
    if getattr(backend, "in_background", False):
        _background.submit(_send_logged, backend, message)
        return
    try:
        await maybe_await(backend.send(message))
    except Exception:
        logger.exception("sending the %s email failed", message.kind or "bastion")
