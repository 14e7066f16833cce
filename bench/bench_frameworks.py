"""What does ``verify_session`` + a claim validator cost per request on Flask and Django?

The companion of ``bench_verify.py`` (FastAPI). Each app is called in-process, without sockets:
Flask and Django-WSGI through a raw WSGI call (an environ dict and ``start_response``), Django-ASGI
through its ASGI handler (a scope, ``receive`` and ``send``). Each app has a no-auth route and a
route protected by ``verify_session`` with the seed's 2FA claim validator, behind bastion's
middleware in both cases. Rounds alternate between the routes; medians are reported.

Run: ``.venv/bin/python bench/bench_frameworks.py``
"""

from __future__ import annotations

import asyncio
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bastion
from bastion.recipe import session
from bastion.recipe.session.claims import BooleanClaim
from bastion.recipe.session.syncio import create_new_session_without_request_response

SecondFactorClaim = BooleanClaim(key="2fa-completed", fetch_value=lambda _, __: False)

ROUNDS = 5
BATCH = 1000
FRESH_BATCH = 200  # a new token per request: each costs one RS256 signature check


def _needs_2fa(global_validators: list[Any], s: Any, user_context: Any) -> list[Any]:
    return [*global_validators, SecondFactorClaim.validators.has_value(True)]


# -- the apps ---------------------------------------------------------------------------------


def flask_app() -> Any:
    from flask import Flask

    from bastion.framework.flask import Middleware
    from bastion.recipe.session.framework.flask import verify_session

    app = Flask(__name__)
    Middleware(app)

    @app.get("/plain")
    def plain() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/protected")
    @verify_session(override_global_claim_validators=_needs_2fa)
    def protected() -> dict[str, bool]:
        return {"ok": True}

    return app


def django_handlers() -> tuple[Any, Any]:
    """(WSGI handler with plain views, ASGI handler with async views)."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["bastion.framework.django.middleware"],
        INSTALLED_APPS=[],
        DATABASES={},
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import JsonResponse
    from django.urls import path

    from bastion.recipe.session.framework.django import asyncio as dj_async
    from bastion.recipe.session.framework.django import syncio as dj_sync

    def plain(request: Any) -> Any:
        return JsonResponse({"ok": True})

    @dj_sync.verify_session(override_global_claim_validators=_needs_2fa)
    def protected(request: Any) -> Any:
        return JsonResponse({"ok": True})

    async def plain_async(request: Any) -> Any:
        return JsonResponse({"ok": True})

    @dj_async.verify_session(override_global_claim_validators=_needs_2fa)
    async def protected_async(request: Any) -> Any:
        return JsonResponse({"ok": True})

    global urlpatterns
    urlpatterns = [
        path("plain", plain),
        path("protected", protected),
        path("async/plain", plain_async),
        path("async/protected", protected_async),
    ]
    return WSGIHandler(), ASGIHandler()


urlpatterns: list[Any] = []


# -- calling them -----------------------------------------------------------------------------


def wsgi_call(app: Any, path: str, token: str) -> int:
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status = ""

    def start_response(s: str, headers: list[Any], exc_info: Any = None) -> Any:
        nonlocal status
        status = s
        return lambda data: None

    body = app(environ, start_response)
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return int(status.split()[0])


async def asgi_call(app: Any, path: str, token: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    status = 0
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # Django listens for a disconnect until the response is sent; the client stays.
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


# -- measuring --------------------------------------------------------------------------------

Batch = Callable[[str, list[str]], float]  # (path, tokens) -> seconds per request


def wsgi_batch(app: Any) -> Batch:
    def run(path: str, tokens: list[str]) -> float:
        start = time.perf_counter()
        for token in tokens:
            assert wsgi_call(app, path, token) == 200
        return (time.perf_counter() - start) / len(tokens)

    return run


def asgi_batch(app: Any) -> Batch:
    def run(path: str, tokens: list[str]) -> float:
        async def go() -> float:
            start = time.perf_counter()
            for token in tokens:
                assert await asgi_call(app, path, token) == 200
            return (time.perf_counter() - start) / len(tokens)

        return asyncio.run(go())  # a benchmark's own loop, outside the timed part

    return run


def measure(batch: Batch, plain: str, protected: str) -> tuple[float, float, float]:
    """Median seconds per request: no auth, auth with a seen token, auth with a new token."""
    seen = new_token()
    batch(protected, [seen])  # warm up: the token is verified once, then cached
    plain_t, seen_t, fresh_t = [], [], []
    for _ in range(ROUNDS):
        fresh = [new_token() for _ in range(FRESH_BATCH)]
        plain_t.append(batch(plain, [seen] * BATCH))
        seen_t.append(batch(protected, [seen] * BATCH))
        fresh_t.append(batch(protected, fresh))
    return statistics.median(plain_t), statistics.median(seen_t), statistics.median(fresh_t)


def new_token() -> str:
    s = create_new_session_without_request_response("user")
    s.sync_set_claim_value(SecondFactorClaim, True)
    return s.get_access_token()


def main() -> None:
    workdir = Path(tempfile.mkdtemp())
    bastion.init(
        app_info=bastion.InputAppInfo(
            app_name="bench", api_domain="http://127.0.0.1", website_domain="http://127.0.0.1"
        ),
        framework="django",
        recipe_list=[session.init()],
        database_url=f"sqlite:///{workdir / 'bench.db'}",
    )
    django_wsgi, django_asgi = django_handlers()
    stacks = [
        ("flask (WSGI call)", wsgi_batch(flask_app()), "/plain", "/protected"),
        ("django (WSGI call)", wsgi_batch(django_wsgi), "/plain", "/protected"),
        ("django (ASGI call)", asgi_batch(django_asgi), "/async/plain", "/async/protected"),
    ]
    print(f"python {sys.version.split()[0]}, {ROUNDS} rounds, medians")
    print("columns: req/s, µs per request, rate relative to the no-auth route, µs auth adds")
    print(f"{'framework':20} {'route':18} {'req/s':>8} {'µs/req':>8} {'ratio':>6} {'+µs':>7}")
    for name, batch, plain_path, protected_path in stacks:
        plain, seen_cost, fresh_cost = measure(batch, plain_path, protected_path)
        for route, cost in (
            ("no auth", plain),
            ("auth, seen token", seen_cost),
            ("auth, new token", fresh_cost),
        ):
            print(
                f"{name:20} {route:18} {1 / cost:8.0f} {cost * 1e6:8.1f} "
                f"{plain / cost:6.2f} {(cost - plain) * 1e6:7.1f}"
            )


if __name__ == "__main__":
    main()
