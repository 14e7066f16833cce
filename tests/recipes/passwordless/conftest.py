"""Fixtures for the passwordless tests: the adapters' test app on each framework, with the
passwordless recipe (optionally email-password and MFA beside it) and in-memory outboxes.

The app (``tests/adapters/apps.py``) has ``GET /verify`` (a session that passes the global
validators, ``st-mfa`` among them) and ``GET /whoami`` (the user and the session handle).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import bastion
from bastion.clock import ManualClock
from bastion.email import EmailMessage, InMemoryOutbox
from bastion.recipe import emailpassword, passwordless, session
from bastion.recipe.passwordless import InMemorySmsOutbox
from tests.adapters.conftest import ASGI, BUILDERS, FRAMEWORKS, T0_MS
from tests.client import SessionClient
from tests.conftest import app_info
from tests.databases import Databases, dump, rows
from tests.recipes.emailpassword.conftest import FAST_HASHING

PASSWORD = "correct horse 1"
FDI = {"fdi-version": "3.1,4.0,4.1,4.2", "rid": "passwordless"}


@dataclass
class PLStack:
    """One framework serving the test app, with bastion's app, clock and outboxes."""

    name: str
    url: str
    clock: ManualClock
    app: bastion.Bastion
    outbox: InMemoryOutbox
    sms: InMemorySmsOutbox

    def client(self, mode: str = "cookie") -> SessionClient:
        return SessionClient(self.url, mode, rid="passwordless")  # type: ignore[arg-type]

    def last_email(self, to: str) -> EmailMessage:
        sent = self.outbox.to(to)
        assert sent, f"no email to {to}"
        return sent[-1]

    def code_for(self, to: str) -> str:
        """The 6-digit code of the last email to ``to`` (or the last SMS to that number)."""
        text = self.sms.to(to)[-1].text if to.startswith("+") else self.last_email(to).text
        found = re.search(r"(?<![0-9])([0-9]{6})(?![0-9])", text)
        assert found is not None, text
        return found.group(1)

    def link_for(self, to: str) -> str:
        text = self.sms.to(to)[-1].text if to.startswith("+") else self.last_email(to).text
        return next(w for w in text.split() if w.startswith("http"))

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        return rows(self.app.store, f"SELECT * FROM {table}")

    def dump(self) -> str:
        """Everything in the database, as text."""
        return dump(self.app.store)


StartPL = Callable[..., PLStack]


@pytest.fixture
def start_pl(databases: Databases, serve: Any, serve_wsgi: Any) -> Iterator[StartPL]:
    """``start_pl(name="fastapi", *, with_emailpassword=False, mfa=None, extra=(), **options)``.

    ``options`` go to ``passwordless.init`` (the outboxes are the default deliveries);
    ``mfa`` is a ``multifactorauth.init(...)`` result; ``extra`` more recipes.
    """
    made: list[bastion.Bastion] = []

    def start(
        name: str = "fastapi",
        *,
        with_emailpassword: bool = False,
        mfa: Any = None,
        extra: tuple[Any, ...] = (),
        **options: Any,
    ) -> PLStack:
        clock = ManualClock(T0_MS)
        outbox, sms = InMemoryOutbox(), InMemorySmsOutbox()
        options.setdefault("email_delivery", outbox)
        options.setdefault("sms_delivery", sms)
        recipes: list[Any] = [session.init()]
        if with_emailpassword:
            recipes.append(emailpassword.init(email_delivery=outbox, password_hashing=FAST_HASHING))
        recipes.append(passwordless.init(**options))
        if mfa is not None:
            recipes.append(mfa)
        recipes.extend(extra)
        app = bastion.init(
            app_info=app_info(),
            framework="fastapi" if name == "fastapi" else name.split("-")[0],  # type: ignore[arg-type]
            mode="asgi" if name in ASGI else "wsgi",
            recipe_list=recipes,
            database_url=databases.fresh(name),
            clock=clock,
        )
        made.append(app)
        web = BUILDERS[name]()
        server = serve(web) if name in ASGI else serve_wsgi(web)
        return PLStack(name, server.url, clock, app, outbox, sms)

    yield start
    for app in made:
        app.close()


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    """Each of FastAPI, Flask, Django (WSGI) and Django (ASGI)."""
    return str(request.param)


def create_code(client: SessionClient, **body: Any) -> httpx.Response:
    return client.post("/auth/signinup/code", json=body, headers=FDI)


def consume(client: SessionClient, started: dict[str, Any], code: str, **extra: Any) -> Any:
    """Consume with the user input code; returns the response."""
    body = {
        "preAuthSessionId": started["preAuthSessionId"],
        "deviceId": started["deviceId"],
        "userInputCode": code,
        **extra,
    }
    return client.post("/auth/signinup/code/consume", json=body, headers=FDI)


def consume_link(client: SessionClient, link: str, **extra: Any) -> Any:
    """Do what the website's ``/auth/verify`` page does with a magic link."""
    parts = urlsplit(link)
    body = {
        "preAuthSessionId": parse_qs(parts.query)["preAuthSessionId"][0],
        "linkCode": parts.fragment,
        **extra,
    }
    return client.post("/auth/signinup/code/consume", json=body, headers=FDI)


def sign_in_with_code(stack: PLStack, client: SessionClient, email: str) -> dict[str, Any]:
    """The whole first-factor flow; returns the consume body."""
    started = create_code(client, email=email).json()
    assert started["status"] == "OK", started
    body: dict[str, Any] = consume(client, started, stack.code_for(email)).json()
    assert body["status"] == "OK", body
    return body


def wrong(code: str) -> str:
    """A 6-digit code that is not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def ep_form(email: str, password: str = PASSWORD) -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}
