"""Sync deployments run bastion as plain sync code: no event loop is created or re-entered.

The WSGI adapters drive bastion's coroutines with ``bastion.bridge.run_sync``. A view behind
them sees no running loop; an async callback that really waits cannot be run there, and fails
loudly (``SyncDriveError``, a 500) instead of quietly spinning up a loop. The library's source
never calls the loop-starting APIs.
"""

from __future__ import annotations

import ast
import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.http import JsonResponse
from django.urls import path
from flask import Flask

import bastion
from bastion.bridge import SyncDriveError
from bastion.framework.flask import Middleware
from bastion.recipe.session.framework.django import syncio as dj_syncio
from bastion.recipe.session.framework.flask import verify_session
from tests.apps import django_setup

SRC = Path(bastion.__file__).parent
LOOP_STARTERS = {
    "run",
    "run_until_complete",
    "new_event_loop",
    "get_event_loop",
    "async_to_sync",
    "run_coroutine_threadsafe",
}


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _waits(validators: list[Any], session: Any, user_context: Any) -> list[Any]:
    await asyncio.sleep(0)  # suspends: needs a loop
    return validators


def flask_app() -> Flask:
    from bastion.recipe.session.syncio import create_new_session

    app = Flask(__name__)
    Middleware(app)

    @app.post("/create")
    def create() -> Any:
        from flask import request

        create_new_session(request, "user-1")
        return {"loop": _loop_running()}

    @app.get("/verify")
    @verify_session()
    def verify() -> Any:
        return {"loop": _loop_running()}

    @app.get("/waits")
    @verify_session(override_global_claim_validators=_waits)
    def waits() -> Any:
        return {"unreachable": True}

    return app


def django_app() -> Any:
    from bastion.recipe.session.syncio import create_new_session

    def create(request: Any) -> Any:
        create_new_session(request, "user-1")
        return JsonResponse({"loop": _loop_running()})

    @dj_syncio.verify_session()
    def verify(request: Any) -> Any:
        return JsonResponse({"loop": _loop_running()})

    @dj_syncio.verify_session(override_global_claim_validators=_waits)
    def waits(request: Any) -> Any:
        return JsonResponse({"unreachable": True})

    return django_setup.wsgi_app(
        [path("create", create), path("verify", verify), path("waits", waits)]
    )


@pytest.mark.parametrize("build", [flask_app, django_app], ids=["flask", "django-wsgi"])
def test_wsgi_requests_run_without_an_event_loop(
    init_app: Any, serve_wsgi: Any, build: Any, caplog: pytest.LogCaptureFixture
) -> None:
    init_app()
    server = serve_wsgi(build())
    with httpx.Client(base_url=server.url) as client:
        created = client.post("/create", headers={"st-auth-mode": "header"})
        assert created.json() == {"loop": False}
        auth = {"authorization": f"Bearer {created.headers['st-access-token']}"}
        assert client.get("/verify", headers=auth).json() == {"loop": False}

        with caplog.at_level(logging.ERROR):
            failed = client.get("/waits", headers=auth)
        assert failed.status_code == 500
        assert any(
            isinstance(r.exc_info[1] if r.exc_info else None, SyncDriveError)
            for r in caplog.records
        )


def test_library_source_never_starts_or_reenters_a_loop() -> None:
    offenders = []
    for file in sorted(SRC.rglob("*.py")):
        tree = ast.parse(file.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                owner = getattr(func, "value", None)
                owner_name = getattr(owner, "id", "") if owner is not None else ""
                if name in LOOP_STARTERS and (owner_name in ("asyncio", "loop") or not owner):
                    offenders.append(f"{file.relative_to(SRC)}:{node.lineno} {name}")
    assert offenders == []
