"""Email delivery: SMTP against a real (tiny, local) SMTP server, the console backend, failures
that never change an endpoint's answer nor leak the link into logs, templates as package data."""

from __future__ import annotations

import email
import io
import logging
import socketserver
import threading
from collections.abc import Iterator
from email.message import Message
from importlib import resources

import pytest

from bastion.email import ConsoleBackend, EmailMessage, SMTPBackend, render
from bastion.errors import ConfigError
from tests.recipes.emailpassword.conftest import StartEP, form, sign_up


class SMTPStub(socketserver.ThreadingTCPServer):
    """Just enough SMTP (RFC 5321) to accept or refuse messages."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, refuse: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.refuse = refuse
        self.received: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Event()
        self.attempted = threading.Event()


class _SMTPHandler(socketserver.StreamRequestHandler):
    server: SMTPStub

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 stub ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 stub")
            elif verb == "MAIL":
                self.server.attempted.set()
                if self.server.refuse:
                    self._reply("554 no thanks")
                    continue
                sender = command.split(":", 1)[1].strip(" <>")
                self._reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.received.append(email.message_from_bytes(data))
                self.server.envelopes.append((sender, recipients))
                self._reply("250 queued")
                self.server.arrived.set()
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


@pytest.fixture
def smtp_stub() -> Iterator[SMTPStub]:
    server = SMTPStub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_backend_sends_text_and_html(smtp_stub: SMTPStub) -> None:
    port = smtp_stub.server_address[1]
    backend = SMTPBackend("127.0.0.1", "App <no-reply@example.com>", port=port, security="none")
    message = render(
        "password-reset",
        to="ada@example.com",
        subject="Reset your App password",
        app_name="App <&>",
        link="https://example.com/auth/reset-password?token=abc&tenantId=public",
        valid_for="1 hour",
    )
    backend.send(message)
    (received,) = smtp_stub.received
    assert smtp_stub.envelopes == [("no-reply@example.com", ["ada@example.com"])]
    assert received["To"] == "ada@example.com"
    assert received["Subject"] == "Reset your App password"
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in received.walk()
        if not p.is_multipart()
    }
    assert (
        "https://example.com/auth/reset-password?token=abc&tenantId=public" in parts["text/plain"]
    )
    assert (
        'href="https://example.com/auth/reset-password?token=abc&amp;tenantId=public"'
        in parts["text/html"]
    )
    assert "App &lt;&amp;&gt;" in parts["text/html"]  # values are escaped in HTML
    assert "password" not in repr(backend)
    with pytest.raises(ConfigError):
        SMTPBackend("h", "f@example.com", security="ssl-please")


def test_reset_email_goes_out_through_smtp_in_the_background(
    start_ep: StartEP, smtp_stub: SMTPStub
) -> None:
    port = smtp_stub.server_address[1]
    stack = start_ep(
        "flask",
        email_delivery=SMTPBackend("127.0.0.1", "no-reply@example.com", port=port, security="none"),
    )
    with stack.client() as client:
        sign_up(client, "smtp@example.com")
        answer = client.post("/auth/user/password/reset/token", json=form(email="smtp@example.com"))
        assert answer.json() == {"status": "OK"}
    assert smtp_stub.arrived.wait(10)
    assert smtp_stub.received[0]["To"] == "smtp@example.com"


class _Recorder(logging.Handler):
    """Keeps records of the ``bastion.email`` logger; ``failed`` is set at the first error."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.failed = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if record.levelno >= logging.ERROR:
            self.failed.set()


def test_a_failing_mail_server_changes_nothing_and_leaks_no_link(start_ep: StartEP) -> None:
    refusing = SMTPStub(refuse=True)
    threading.Thread(target=refusing.serve_forever, daemon=True).start()
    recorder = _Recorder()
    logger = logging.getLogger("bastion.email")
    logger.addHandler(recorder)
    try:
        stack = start_ep(
            "fastapi",
            email_delivery=SMTPBackend(
                "127.0.0.1",
                "no-reply@example.com",
                port=refusing.server_address[1],
                security="none",
            ),
        )
        with stack.client() as client:
            sign_up(client, "refused@example.com")
            answer = client.post(
                "/auth/user/password/reset/token", json=form(email="refused@example.com")
            )
            assert (answer.status_code, answer.json()) == (200, {"status": "OK"})
        assert recorder.failed.wait(10)  # logged by the background sender
        assert refusing.attempted.is_set()
        (failure,) = recorder.records
        assert failure.getMessage() == "sending the password-reset email failed"
        logged = logging.Formatter().format(failure)  # with the traceback
        assert "token=" not in logged
        assert "554" in logged
    finally:
        logger.removeHandler(recorder)
        refusing.shutdown()
        refusing.server_close()


def test_console_backend_prints_links_only_in_development() -> None:
    message = EmailMessage(
        to="dev@example.com", subject="Hi", text="open http://localhost/x?token=SECRET"
    )
    local = io.StringIO()
    ConsoleBackend(local, production=False).send(message)
    assert "token=SECRET" in local.getvalue()
    production = io.StringIO()
    ConsoleBackend(production, production=True).send(message)
    assert "dev@example.com" in production.getvalue()
    assert "SECRET" not in production.getvalue()


def test_templates_are_package_data() -> None:
    folder = resources.files("bastion.templates").joinpath("email")
    names = {entry.name for entry in folder.iterdir()}
    assert {
        "email-verification.html",
        "email-verification.txt",
        "password-reset.html",
        "password-reset.txt",
    } <= names
