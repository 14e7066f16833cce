"""Fixtures for the email-password tests: the adapters' test app on each framework, with the
email-password (and optionally email-verification) recipe and an in-memory outbox.

The app (``tests/adapters/apps.py``) has ``GET /verify`` (any session, global validators) and
``POST /like_comment`` (the seed's per-route ``2fa-completed`` validator) besides ``/auth``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import bastion
from bastion.clock import ManualClock
from bastion.core.passwords import PasswordHashing
from bastion.email import InMemoryOutbox
from bastion.recipe import emailpassword, emailverification, session
from tests.adapters.conftest import ASGI, BUILDERS, FRAMEWORKS, T0_MS
from tests.client import SessionClient
from tests.conftest import app_info
from tests.databases import Databases

# Cheap argon2 for tests that hash a lot; tests about hashing itself use the defaults.
FAST_HASHING = PasswordHashing(time_cost=1, memory_cost_kib=1024)
PASSWORD = "correct horse 1"


def form(**fields: Any) -> dict[str, Any]:
    """``form(email="a@b.c", password="x")`` -> the ``formFields`` body."""
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


@dataclass
class EPStack:
    """One framework serving the test app, with bastion's app, clock and outbox."""

    name: str
    url: str
    clock: ManualClock
    app: bastion.Bastion
    outbox: InMemoryOutbox

    def client(self, mode: str = "cookie") -> SessionClient:
        return SessionClient(self.url, mode, rid="emailpassword")  # type: ignore[arg-type]

    @property
    def recipe(self) -> Any:
        return self.app.recipes["emailpassword"]


StartEP = Callable[..., EPStack]


@pytest.fixture
def start_ep(databases: Databases, serve: Any, serve_wsgi: Any) -> Iterator[StartEP]:
    """``start_ep(name="fastapi", verification=None, **emailpassword_options)``.

    ``verification`` is ``"REQUIRED"`` or ``"OPTIONAL"`` to add the email-verification recipe
    (sharing the outbox); ``extra_recipes`` are appended to the recipe list; ``trusted_proxies``
    goes to ``bastion.init``.
    """
    made: list[bastion.Bastion] = []

    def start(
        name: str = "fastapi",
        *,
        verification: str | None = None,
        trusted_proxies: tuple[str, ...] = (),
        extra_recipes: tuple[Any, ...] = (),
        **options: Any,
    ) -> EPStack:
        clock = ManualClock(T0_MS)
        outbox = InMemoryOutbox()
        options.setdefault("password_hashing", FAST_HASHING)
        options.setdefault("email_delivery", outbox)
        recipes: list[Any] = [session.init(), emailpassword.init(**options)]
        if verification is not None:
            recipes.append(emailverification.init(verification, email_delivery=outbox))  # type: ignore[arg-type]
        recipes.extend(extra_recipes)
        app = bastion.init(
            app_info=app_info(),
            framework="fastapi" if name == "fastapi" else name.split("-")[0],  # type: ignore[arg-type]
            mode="asgi" if name in ASGI else "wsgi",
            recipe_list=recipes,
            database_url=databases.fresh(name),
            clock=clock,
            trusted_proxies=trusted_proxies,
        )
        made.append(app)
        web = BUILDERS[name]()
        server = serve(web) if name in ASGI else serve_wsgi(web)
        return EPStack(name, server.url, clock, app, outbox)

    yield start
    for app in made:
        app.close()


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    """Each of FastAPI, Flask, Django (WSGI) and Django (ASGI)."""
    return str(request.param)


def sign_up(client: SessionClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/auth/signup", json=form(email=email, password=password))


def sign_in(client: SessionClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/auth/signin", json=form(email=email, password=password))
