"""What does ``verify_session`` + a claim validator cost per request? (FastAPI, in-process).

Drives the ASGI app directly (no sockets, no HTTP client), so the figures are the framework's
own cost plus bastion's. Rounds alternate between the routes; medians are reported.

Targets from the foundation issue: auth adds at most 15 µs per request for a token already seen,
and at most 45 µs for a new one (the RS256 signature check alone is about 30 µs here).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request

import bastion
from bastion.framework.fastapi import get_middleware
from bastion.recipe import session
from bastion.recipe.session import SessionContainer
from bastion.recipe.session.asyncio import create_new_session_without_request_response
from bastion.recipe.session.claims import BooleanClaim
from bastion.recipe.session.framework.fastapi import verify_session

SecondFactorClaim = BooleanClaim(key="2fa-completed", fetch_value=lambda _, __: False)

ROUNDS = 7
BATCH = 2000


def build_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(get_middleware())

    @app.get("/plain")
    async def plain() -> dict[str, bool]:
        return {"ok": True}

    async def no_auth_dependency(request: Request) -> None:
        return None

    @app.get("/plain-dependency")
    async def plain_dependency(_: None = Depends(no_auth_dependency)) -> dict[str, bool]:
        return {"ok": True}

    @app.get("/protected")
    async def protected(
        s: SessionContainer = Depends(
            verify_session(
                override_global_claim_validators=lambda g, s, u: [
                    *g,
                    SecondFactorClaim.validators.has_value(True),
                ]
            )
        ),
    ) -> dict[str, bool]:
        return {"ok": True}

    return app


def scope_for(path: str, token: str | None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1")]
    if token is not None:
        headers.append((b"authorization", b"Bearer " + token.encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def call(app: Any, scope: dict[str, Any]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def timed(batch: Callable[[], Coroutine[Any, Any, None]]) -> float:
    start = time.perf_counter()
    await batch()
    return time.perf_counter() - start


async def main() -> None:
    workdir = Path(tempfile.mkdtemp())
    bastion.init(
        app_info=bastion.InputAppInfo(
            app_name="bench", api_domain="http://127.0.0.1", website_domain="http://127.0.0.1"
        ),
        recipe_list=[session.init()],
        database_url=f"sqlite:///{workdir / 'bench.db'}",
    )
    app = build_app()

    async def token() -> str:
        s = await create_new_session_without_request_response(
            "user", await SecondFactorClaim.build("user") | {}
        )
        await s.set_claim_value(SecondFactorClaim, True)
        return s.get_access_token()

    seen = await token()
    fresh = [await token() for _ in range(ROUNDS * BATCH // 4)]
    plain_scope = scope_for("/plain", seen)
    dependency_scope = scope_for("/plain-dependency", seen)
    seen_scope = scope_for("/protected", seen)
    assert await call(app, plain_scope) == 200
    assert await call(app, seen_scope) == 200
    fresh_scopes = [scope_for("/protected", t) for t in fresh]

    async def run(scope: dict[str, Any]) -> None:
        for _ in range(BATCH):
            await call(app, scope)

    fresh_iter = iter(fresh_scopes)

    async def run_fresh() -> None:
        for _ in range(BATCH // 4):
            await call(app, next(fresh_iter))

    plain_t: list[float] = []
    dep_t: list[float] = []
    seen_t: list[float] = []
    fresh_t: list[float] = []
    for _ in range(ROUNDS):
        plain_t.append(await timed(lambda: run(plain_scope)) / BATCH)
        dep_t.append(await timed(lambda: run(dependency_scope)) / BATCH)
        seen_t.append(await timed(lambda: run(seen_scope)) / BATCH)
        fresh_t.append(await timed(run_fresh) / (BATCH // 4))

    plain, dep, seen_cost, fresh_cost = (
        statistics.median(x) for x in (plain_t, dep_t, seen_t, fresh_t)
    )
    print(f"python {sys.version.split()[0]}, {ROUNDS} rounds, medians")
    print("columns: req/s, µs per request, rate relative to the no-auth route, µs added over")
    print("the no-auth route, µs added over a no-auth route with a no-op FastAPI dependency")
    print(f"{'route':42} {'req/s':>8} {'µs/req':>8} {'ratio':>6} {'+µs':>7} {'+µs dep':>8}")
    rows = [
        ("no auth (same app, same middleware)", plain),
        ("no auth, no-op Depends(request)", dep),
        ("verify_session + 2FA claim, seen token", seen_cost),
        ("verify_session + 2FA claim, new token", fresh_cost),
    ]
    for name, cost in rows:
        print(
            f"{name:42} {1 / cost:8.0f} {cost * 1e6:8.1f} {plain / cost:6.2f} "
            f"{(cost - plain) * 1e6:7.1f} {(cost - dep) * 1e6:8.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
