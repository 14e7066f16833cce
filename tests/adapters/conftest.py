"""Start the same app on each framework: FastAPI, Flask, Django under WSGI and under ASGI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import bastion
from bastion.clock import ManualClock
from bastion.recipe import session
from tests.adapters import apps
from tests.conftest import app_info
from tests.databases import Databases

T0_MS = 1_800_000_000_000
FRAMEWORKS = ["fastapi", "flask", "django-wsgi", "django-asgi"]
ASGI = {"fastapi", "django-asgi"}

BUILDERS: dict[str, Callable[..., Any]] = {
    "fastapi": apps.fastapi_app,
    "flask": apps.flask_app,
    "django-wsgi": apps.django_wsgi_app,
    "django-asgi": apps.django_asgi_app,
}


@dataclass(frozen=True)
class Stack:
    """One framework serving the test app over real HTTP, with its own bastion and clock."""

    name: str
    url: str
    clock: ManualClock
    app: bastion.Bastion


StartStack = Callable[..., Stack]


def _make_keys(url: str) -> None:
    bastion.init(
        app_info=app_info(),
        recipe_list=[session.init()],
        database_url=url,
        clock=ManualClock(T0_MS),
    ).close()


@pytest.fixture
def template_db(databases: Databases) -> str:
    """A database with bastion's keys already made at ``T0_MS``; each stack starts on a copy.

    Making an RSA signing key takes ~0.1 s: once per backend and run instead of once per stack.
    """
    return databases.make_template("keys", _make_keys)


@pytest.fixture
def start_stack(
    databases: Databases, template_db: str, serve: Any, serve_wsgi: Any
) -> Iterator[StartStack]:
    """``start_stack(name, cors=False, recipes=(), **session_settings)``: init, serve the app.

    ``recipes`` holds callables returning other recipes' ``init(...)`` results;
    ``database_url`` replaces the fresh database (seeded from ``template_db``) with another.

    Every stack starts from the same clock time on a fresh database, so the same requests give
    the same expiry times on every framework. Only the last started stack is current.
    """
    made: list[bastion.Bastion] = []

    def start(
        name: str,
        *,
        cors: bool = False,
        recipes: tuple[Any, ...] = (),
        database_url: str | None = None,
        **session_settings: Any,
    ) -> Stack:
        clock = ManualClock(T0_MS)
        app = bastion.init(
            app_info=app_info(),
            framework="fastapi" if name == "fastapi" else name.split("-")[0],  # type: ignore[arg-type]
            mode="asgi" if name in ASGI else "wsgi",
            recipe_list=[session.init(**session_settings), *(make() for make in recipes)],
            database_url=database_url or databases.fresh(name, template=template_db),
            clock=clock,
        )
        made.append(app)
        web = BUILDERS[name](cors=cors)
        server = serve(web) if name in ASGI else serve_wsgi(web)
        return Stack(name, server.url, clock, app)

    yield start
    for app in made:
        app.close()
