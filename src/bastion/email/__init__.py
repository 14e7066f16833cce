"""Email delivery: a backend interface with SMTP, console and in-memory implementations.

Pass a backend to a recipe (``emailpassword.init(email_delivery=SMTPBackend(...))``). The
default is :class:`ConsoleBackend`, for development. Delivery failures are logged and never
change an endpoint's answer.
"""

from bastion.email.backends import ConsoleBackend, InMemoryOutbox, SMTPBackend
from bastion.email.delivery import deliver
from bastion.email.message import EmailBackend, EmailMessage
from bastion.email.templates import render

__all__ = [
    "ConsoleBackend",
    "EmailBackend",
    "EmailMessage",
    "InMemoryOutbox",
    "SMTPBackend",
    "deliver",
    "render",
]
