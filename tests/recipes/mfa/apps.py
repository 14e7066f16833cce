"""The MFA test app, written for each framework: the same routes, the same answers.

Routes besides bastion's ``/auth`` API:

- ``POST /first-factor?user=`` creates a session and marks ``emailpassword`` complete, as the
  email-password recipe does at sign-in (``user-1`` by default);
- ``GET /protected`` needs a session that passed the global validators (``st-mfa`` among them);
- ``POST /sensitive`` also needs TOTP (or a recovery code) within the last 300 s (step-up);
- ``POST /seed-2fa`` sets the seed's hand-made ``2fa-completed`` claim; ``POST /like_comment``
  requires it (the seed's per-route validator), alongside ``st-mfa``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request

from bastion.bridge import run_sync
from bastion.recipe.multifactorauth import MultiFactorAuthClaim
from bastion.recipe.session import SessionContainer
from bastion.recipe.session.claims import BooleanClaim
from bastion.runtime import current_app

SecondFactorClaim = BooleanClaim(key="2fa-completed", fetch_value=lambda _, __: False)
STEP_UP_SECONDS = 300


def step_up(global_validators: list[Any], session: Any, user_context: Any) -> list[Any]:
    return [
        *global_validators,
        MultiFactorAuthClaim.validators.has_completed_factors_within(["totp"], STEP_UP_SECONDS),
    ]


def needs_seed_claim(global_validators: list[Any], session: Any, user_context: Any) -> list[Any]:
    return [*global_validators, SecondFactorClaim.validators.has_value(True)]


async def mark_first_factor(session: Any) -> None:
    recipe = current_app().recipes["multifactorauth"]
    await recipe.mark_first_factor_complete(session, "emailpassword", {})


def fastapi_app() -> Any:
    from bastion.framework.fastapi import get_middleware
    from bastion.recipe.session.asyncio import create_new_session
    from bastion.recipe.session.framework.fastapi import verify_session

    app = FastAPI()
    app.add_middleware(get_middleware())

    @app.post("/first-factor")
    async def first_factor(request: Request, user: str = "user-1") -> dict[str, str]:
        session = await create_new_session(request, user)
        await mark_first_factor(session)
        return {"status": "OK"}

    @app.get("/protected")
    async def protected(session: SessionContainer = Depends(verify_session())) -> Any:
        return {"user": session.get_user_id()}

    @app.post("/sensitive")
    async def sensitive(
        session: SessionContainer = Depends(
            verify_session(override_global_claim_validators=step_up)
        ),
    ) -> Any:
        return {"status": "OK"}

    @app.post("/seed-2fa")
    async def seed_2fa(session: SessionContainer = Depends(verify_session())) -> Any:
        await session.set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    @app.post("/like_comment")
    async def like_comment(
        session: SessionContainer = Depends(
            verify_session(override_global_claim_validators=needs_seed_claim)
        ),
    ) -> Any:
        return {"status": "OK"}

    return app


def flask_app() -> Any:
    from flask import Flask, request

    from bastion.framework.flask import Middleware
    from bastion.recipe.session.framework.flask import get_session, verify_session
    from bastion.recipe.session.syncio import create_new_session

    app = Flask(__name__)
    Middleware(app)

    def current() -> Any:
        session = get_session()
        assert session is not None
        return session

    @app.post("/first-factor")
    def first_factor() -> Any:
        session = create_new_session(request, request.args.get("user", "user-1"))
        run_sync(mark_first_factor(session))
        return {"status": "OK"}

    @app.get("/protected")
    @verify_session()
    def protected() -> Any:
        return {"user": current().get_user_id()}

    @app.post("/sensitive")
    @verify_session(override_global_claim_validators=step_up)
    def sensitive() -> Any:
        return {"status": "OK"}

    @app.post("/seed-2fa")
    @verify_session()
    def seed_2fa() -> Any:
        current().sync_set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    @app.post("/like_comment")
    @verify_session(override_global_claim_validators=needs_seed_claim)
    def like_comment() -> Any:
        return {"status": "OK"}

    return app


def _django_views(asynchronous: bool) -> list[Any]:
    from django.http import JsonResponse
    from django.urls import path

    if asynchronous:
        from bastion.recipe.session.asyncio import create_new_session
        from bastion.recipe.session.framework.django.asyncio import verify_session

        async def first_factor(request: Any) -> Any:
            session = await create_new_session(request, request.GET.get("user", "user-1"))
            await mark_first_factor(session)
            return JsonResponse({"status": "OK"})

        @verify_session()
        async def protected(request: Any) -> Any:
            return JsonResponse({"user": request.supertokens.get_user_id()})

        @verify_session(override_global_claim_validators=step_up)
        async def sensitive(request: Any) -> Any:
            return JsonResponse({"status": "OK"})

        @verify_session()
        async def seed_2fa(request: Any) -> Any:
            await request.supertokens.set_claim_value(SecondFactorClaim, True)
            return JsonResponse({"status": "OK"})

        @verify_session(override_global_claim_validators=needs_seed_claim)
        async def like_comment(request: Any) -> Any:
            return JsonResponse({"status": "OK"})

    else:
        from bastion.recipe.session.framework.django.syncio import verify_session as sync_verify
        from bastion.recipe.session.syncio import create_new_session as sync_create

        def first_factor(request: Any) -> Any:  # type: ignore[misc]
            session = sync_create(request, request.GET.get("user", "user-1"))
            run_sync(mark_first_factor(session))
            return JsonResponse({"status": "OK"})

        @sync_verify()
        def protected(request: Any) -> Any:
            return JsonResponse({"user": request.supertokens.get_user_id()})

        @sync_verify(override_global_claim_validators=step_up)
        def sensitive(request: Any) -> Any:
            return JsonResponse({"status": "OK"})

        @sync_verify()
        def seed_2fa(request: Any) -> Any:
            request.supertokens.sync_set_claim_value(SecondFactorClaim, True)
            return JsonResponse({"status": "OK"})

        @sync_verify(override_global_claim_validators=needs_seed_claim)
        def like_comment(request: Any) -> Any:
            return JsonResponse({"status": "OK"})

    views = {
        "first-factor": first_factor,
        "protected": protected,
        "sensitive": sensitive,
        "seed-2fa": seed_2fa,
        "like_comment": like_comment,
    }
    return [path(name, view) for name, view in views.items()]


def django_wsgi_app() -> Any:
    from tests.apps import django_setup

    return django_setup.wsgi_app(_django_views(False), [django_setup.BASTION_MIDDLEWARE])


def django_asgi_app() -> Any:
    from tests.apps import django_setup

    return django_setup.asgi_app(_django_views(True), [django_setup.BASTION_MIDDLEWARE])


BUILDERS = {
    "fastapi": fastapi_app,
    "flask": flask_app,
    "django-wsgi": django_wsgi_app,
    "django-asgi": django_asgi_app,
}
