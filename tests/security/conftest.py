"""Fixtures for the attack and fault tests: the account app in a thread or in processes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

import bastion
from bastion.audit import AuditEvent
from bastion.clock import ManualClock
from bastion.email import InMemoryOutbox
from tests.apps import account_app
from tests.client import SessionClient
from tests.conftest import free_port
from tests.databases import Databases

T0_MS = 1_800_000_000_000  # a multiple of 30 s
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple 9"


def form(**fields: Any) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


def api(client: SessionClient, method: str, path: str, body: Any = None, rid: str = "totp") -> Any:
    """Call bastion's API as the frontend SDK does."""
    kwargs: dict[str, Any] = {"headers": {"rid": rid}}
    if body is not None:
        kwargs["json"] = body
    return client.request(method, "/auth" + path, **kwargs)


def reset_token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


@dataclass
class Stack:
    """The account app in a thread: its bastion, clock, outbox and audit events."""

    url: str
    app: bastion.Bastion
    clock: ManualClock
    outbox: InMemoryOutbox
    events: list[AuditEvent] = field(default_factory=list)

    def client(self, mode: str = "header") -> SessionClient:
        return SessionClient(self.url, mode)  # type: ignore[arg-type]

    def code(self, secret: str) -> str:
        return str(pyotp.TOTP(secret).at(self.clock.now_ms() // 1000))

    def sign_up(self, client: SessionClient, email: str, password: str = PASSWORD) -> Any:
        return api(client, "POST", "/signup", form(email=email, password=password), "emailpassword")

    def sign_in(self, client: SessionClient, email: str, password: str = PASSWORD) -> Any:
        return api(client, "POST", "/signin", form(email=email, password=password), "emailpassword")

    def enroll(self, client: SessionClient, name: str | None = None) -> str:
        """Create and verify a TOTP device in the client's session; returns its secret."""
        created = api(client, "POST", "/totp/device", {"deviceName": name} if name else {})
        assert created.json()["status"] == "OK", created.text
        body = created.json()
        verified = api(
            client,
            "POST",
            "/totp/device/verify",
            {"deviceName": body["deviceName"], "totp": self.code(body["secret"])},
        )
        assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}, verified.text
        return str(body["secret"])

    def totp(self, client: SessionClient, secret: str) -> Any:
        return api(client, "POST", "/totp/verify", {"totp": self.code(secret)})

    def email_code(self, client: SessionClient, email: str) -> Any:
        """Complete ``otp-email`` in the client's session, as auth-react does (the flag true)."""
        fdi = {"fdi-version": "3.1,4.0,4.1,4.2", "rid": "passwordless"}
        body = {"email": email, "shouldTryLinkingWithSessionUser": True}
        started = client.post("/auth/signinup/code", json=body, headers=fdi).json()
        assert started["status"] == "OK", started
        text = self.outbox.to(email)[-1].text
        code = re.search(r"(?<![0-9])([0-9]{6})(?![0-9])", text)
        assert code is not None, text
        consume = {
            "preAuthSessionId": started["preAuthSessionId"],
            "deviceId": started["deviceId"],
            "userInputCode": code.group(1),
            "shouldTryLinkingWithSessionUser": True,
        }
        return client.post("/auth/signinup/code/consume", json=consume, headers=fdi)

    def reset_link(self, email: str) -> str:
        """The link of the last reset email sent to ``email``."""
        text = self.outbox.to(email)[-1].text
        return next(w for w in text.split() if "reset-password?token=" in w)


StartStack = Callable[..., Stack]


@pytest.fixture
def start_stack(databases: Databases, serve: Any) -> Iterator[StartStack]:
    """``start_stack(session_options=..., mfa_options=..., ep_options=...)``: served over HTTP,
    on each backend."""
    made: list[bastion.Bastion] = []

    def start(**options: Any) -> Stack:
        clock = ManualClock(T0_MS)
        outbox = InMemoryOutbox()
        events: list[AuditEvent] = []
        options.setdefault("audit_callback", events.append)
        app = account_app.init(
            databases.fresh("account"),
            outbox=outbox,
            clock=clock,
            **options,
        )
        made.append(app)
        server = serve(account_app.build())
        return Stack(server.url, app, clock, outbox, events)

    yield start
    for app in made:
        app.close()


# -- servers in processes of their own -------------------------------------------------------


class ServerProcess:
    """``python -m tests.apps.account_server`` on a SQLite file, with the real clock."""

    def __init__(self, db: Path, outbox: Path, *, crash_at: int | None = None) -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            BASTION_TEST_DB=str(db),
            BASTION_TEST_OUTBOX=str(outbox),
            BASTION_TEST_PORT=str(self.port),
        )
        env.pop("BASTION_TEST_CRASH_AT", None)
        if crash_at is not None:
            env["BASTION_TEST_CRASH_AT"] = str(crash_at)
        self.log = db.with_name(f"{db.stem}-{self.port}.log")
        with open(self.log, "w", encoding="utf-8") as log:  # a file: a pipe could fill up
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.apps.account_server"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self._wait_until_listening()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start-up: {self.stderr()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return  # a TCP connect only: no request, so no write, reaches the app
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stderr(self) -> str:
        return self.log.read_text("utf-8")

    def wait_dead(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def processes() -> Iterator[Callable[..., ServerProcess]]:
    """``processes(db, outbox, crash_at=None)`` starts a server process (stopped after)."""
    started: list[ServerProcess] = []

    def start(db: Path, outbox: Path, *, crash_at: int | None = None) -> ServerProcess:
        server = ServerProcess(db, outbox, crash_at=crash_at)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def emails(outbox: Path) -> list[dict[str, str]]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text("utf-8").splitlines()]
