"""Delivery backends: SMTP (standard library), the console (development), an in-memory outbox
(tests)."""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
import threading
from email.message import EmailMessage as MIMEMessage
from email.utils import formatdate, make_msgid
from typing import TextIO

from bastion.email.message import EmailMessage

__all__ = ["ConsoleBackend", "InMemoryOutbox", "SMTPBackend"]

logger = logging.getLogger("bastion.email")


class SMTPBackend:
    """Sends through an SMTP server with :mod:`smtplib`.

    Args:
        host: the server.
        port: 587 for STARTTLS (the default), 465 for implicit TLS, 25 for neither.
        from_address: the ``From`` header (``"My app <no-reply@example.com>"``).
        username: login name, if the server wants one.
        password: login password.
        security: ``"starttls"``, ``"tls"`` or ``"none"`` (only for a local relay).
        timeout: seconds for connecting and each command.
    """

    in_background = True

    def __init__(
        self,
        host: str,
        from_address: str,
        *,
        port: int = 587,
        username: str | None = None,
        password: str | None = None,
        security: str = "starttls",
        timeout: float = 10.0,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            from bastion.errors import ConfigError

            raise ConfigError("security must be 'starttls', 'tls' or 'none'")
        self.host = host
        self.port = port
        self.from_address = from_address
        self.username = username
        self._password = password
        self.security = security
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SMTPBackend({self.host!r}, port={self.port}, security={self.security!r})"

    def build(self, message: EmailMessage) -> MIMEMessage:
        """The MIME message that :meth:`send` transmits."""
        mime = MIMEMessage()
        mime["From"] = self.from_address
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(localtime=False)
        mime["Message-ID"] = make_msgid()
        mime.set_content(message.text)
        if message.html is not None:
            mime.add_alternative(message.html, subtype="html")
        return mime

    def send(self, message: EmailMessage) -> None:
        mime = self.build(message)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username is not None:
                smtp.login(self.username, self._password or "")
            smtp.send_message(mime)


class ConsoleBackend:
    """Prints emails, links included, for local development.

    When the app is not served from localhost (``production``), links and bodies are withheld:
    only the recipient and subject are printed, since a console that gets logged would
    otherwise keep live reset tokens. Pass ``production=False`` to force printing.
    """

    in_background = False

    def __init__(self, stream: TextIO | None = None, *, production: bool | None = None) -> None:
        self.stream = stream
        self.production = production

    def send(self, message: EmailMessage) -> None:
        stream = self.stream or sys.stdout
        production = self.production
        if production is None:
            from bastion.runtime import current_app

            production = not current_app().app_info.is_local()
        if production:
            logger.warning(
                "ConsoleBackend cannot deliver email in production; configure SMTPBackend"
            )
            print(
                f"[bastion email] to {message.to}: {message.subject} (body withheld)", file=stream
            )
            return
        print(
            f"[bastion email] to {message.to}: {message.subject}\n{message.text}\n",
            file=stream,
            flush=True,
        )


class InMemoryOutbox:
    """Keeps every message in :attr:`messages`, for tests."""

    in_background = False

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def to(self, address: str) -> list[EmailMessage]:
        """Messages sent to ``address`` (exact match), oldest first."""
        with self._lock:
            return [m for m in self.messages if m.to == address]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
