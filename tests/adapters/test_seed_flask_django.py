"""The seed's Flask and Django examples, end to end over real HTTP, in cookie and header mode.

Each protected route answers 403 with the ``invalid claim`` body before the second factor and
200 after; the global-validator override applies to every plain ``verify_session()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.apps import django_setup, seed_django, seed_flask
from tests.client import SessionClient

INVALID_2FA = {
    "message": "invalid claim",
    "claimValidationErrors": [
        {
            "id": "2fa-completed",
            "reason": {"message": "wrong value", "expectedValue": True, "actualValue": False},
        }
    ],
}


@dataclass(frozen=True)
class PerRouteStack:
    """How to serve one framework's per-route app and which paths it uses."""

    name: str
    build: Callable[[], Any]
    wsgi: bool
    protected: str = "/like_comment"
    second_factor: str = "/second-factor"


PER_ROUTE = [
    PerRouteStack("flask", seed_flask.per_route_app, wsgi=True, protected="/update-jwt"),
    PerRouteStack(
        "flask-async-views",
        seed_flask.per_route_app,
        wsgi=True,
        protected="/like_comment_async",
        second_factor="/second-factor-async",
    ),
    PerRouteStack(
        "django-wsgi", lambda: django_setup.wsgi_app(seed_django.per_route_patterns()), wsgi=True
    ),
    PerRouteStack(
        "django-wsgi-syncio",
        lambda: django_setup.wsgi_app(seed_django.per_route_sync_patterns()),
        wsgi=True,
    ),
    PerRouteStack(
        "django-asgi", lambda: django_setup.asgi_app(seed_django.per_route_patterns()), wsgi=False
    ),
    PerRouteStack(
        "django-asgi-syncio",
        lambda: django_setup.asgi_app(seed_django.per_route_sync_patterns()),
        wsgi=False,
    ),
]

GLOBAL = [
    ("flask", seed_flask.global_app, True),
    ("django-wsgi", lambda: django_setup.wsgi_app(seed_django.global_patterns()), True),
    ("django-asgi", lambda: django_setup.asgi_app(seed_django.global_patterns()), False),
]


@pytest.fixture(params=["cookie", "header"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _url(serve: Any, serve_wsgi: Any, app: Any, wsgi: bool) -> str:
    return str((serve_wsgi if wsgi else serve)(app).url)


@pytest.mark.parametrize("stack", PER_ROUTE, ids=[s.name for s in PER_ROUTE])
def test_per_route_validator_blocks_until_second_factor(
    init_app, serve, serve_wsgi, mode, stack: PerRouteStack
) -> None:
    init_app(framework="flask" if stack.name.startswith("flask") else "django")
    url = _url(serve, serve_wsgi, stack.build(), stack.wsgi)
    with SessionClient(url, mode) as client:  # type: ignore[arg-type]
        assert client.post("/first-factor").json() == {"status": "OK"}
        if mode == "header":
            assert client.access_token
            assert client.refresh_token
        else:
            assert client.http.cookies.get("sAccessToken")

        denied = client.post(stack.protected)
        assert denied.status_code == 403
        assert denied.json() == INVALID_2FA

        # A route without the validator works with the first factor alone.
        assert client.get("/no-2fa-needed").json() == {"user": "user-1"}

        done = client.post(stack.second_factor)
        assert done.status_code == 200
        assert client.payload()["2fa-completed"]["v"] is True

        allowed = client.post(stack.protected)
        assert allowed.status_code == 200
        # The seed's views end in ``pass``: 200 with JSON null, as FastAPI answers.
        assert allowed.json() in (None, {"user": "user-1"})

        refreshed = client.refresh()
        assert refreshed.status_code == 200
        assert client.payload()["2fa-completed"]["v"] is True
        assert client.post(stack.protected).status_code == 200


@pytest.mark.parametrize(("name", "build", "wsgi"), GLOBAL, ids=[g[0] for g in GLOBAL])
def test_global_validator_applies_to_every_plain_verify_session(
    init_app, serve, serve_wsgi, mode, name: str, build: Callable[[], Any], wsgi: bool
) -> None:
    init_app(recipe_list=[seed_flask.session_recipe], framework=name.split("-")[0])
    url = _url(serve, serve_wsgi, build(), wsgi)
    with SessionClient(url, mode) as client:  # type: ignore[arg-type]
        client.post("/first-factor")
        for method, path in (("POST", "/like_comment"), ("GET", "/profile")):
            denied = client.request(method, path)
            assert denied.status_code == 403, path
            assert denied.json() == INVALID_2FA

        assert client.post("/second-factor").status_code == 200
        assert client.post("/like_comment").status_code == 200
        assert client.get("/profile").json() == {"user": "user-1"}


@pytest.mark.parametrize("stack", PER_ROUTE, ids=[s.name for s in PER_ROUTE])
def test_no_session_is_401_not_403(init_app, serve, serve_wsgi, mode, stack) -> None:
    init_app()
    url = _url(serve, serve_wsgi, stack.build(), stack.wsgi)
    with SessionClient(url, mode) as client:  # type: ignore[arg-type]
        response = client.post(stack.protected)
        assert response.status_code == 401
        assert response.json() == {"message": "unauthorised"}


@pytest.mark.parametrize("stack", PER_ROUTE, ids=[s.name for s in PER_ROUTE])
def test_options_and_trace_never_reach_a_protected_view(init_app, serve, serve_wsgi, stack) -> None:
    """A Django view accepts every method: a preflight must not run it without a session."""
    init_app(framework="flask" if stack.name.startswith("flask") else "django")
    url = _url(serve, serve_wsgi, stack.build(), stack.wsgi)
    with SessionClient(url, "cookie") as client:
        for method in ("OPTIONS", "TRACE"):
            response = client.request(method, stack.protected)
            # Flask answers OPTIONS itself and refuses TRACE (405) before the view; Django and
            # bastion's decorators answer 401: in no case does the view run without a session.
            assert response.status_code in (200, 401, 405), (method, response.text)
            if response.status_code == 200:
                assert stack.name.startswith("flask")
                assert method == "OPTIONS"
                assert response.content in (b"", b"null") or "allow" in response.headers
            if stack.name.startswith("django"):
                assert (response.status_code, response.json()) == (
                    401,
                    {"message": "unauthorised"},
                ), method
