"""The seed's Django snippet with ``supertokens_python`` renamed to ``bastion``.

``per_route_patterns()`` uses the snippet as written (an ``async def`` view with the asyncio
``verify_session``); ``per_route_sync_patterns()`` is the same app with plain views and the
syncio ``verify_session``; ``global_patterns()`` uses the global-validator snippet (in
:mod:`tests.apps.seed_fastapi`, shared by every framework). Serve them with
:func:`tests.apps.django_setup.wsgi_app` or :func:`~tests.apps.django_setup.asgi_app`.
"""

# ruff: noqa: E501, F401, I001, RUF005 - the snippet is kept as the seed wrote it

from __future__ import annotations

from typing import Any

from tests.apps import django_setup

from django.http import HttpRequest, JsonResponse
from django.urls import path

from bastion.recipe.session import asyncio as session_asyncio
from bastion.recipe.session import syncio as session_syncio
from bastion.recipe.session.framework.django import asyncio as dj_asyncio
from bastion.recipe.session.framework.django import syncio as dj_syncio
from tests.apps.seed_fastapi import SecondFactorClaim as GlobalSecondFactorClaim
from tests.apps.seed_fastapi import session_recipe

__all__ = ["global_patterns", "per_route_patterns", "per_route_sync_patterns", "session_recipe"]


async def first_factor(request: HttpRequest) -> JsonResponse:
    await session_asyncio.create_new_session(request, "user-1")
    return JsonResponse({"status": "OK"})


def first_factor_sync(request: HttpRequest) -> JsonResponse:
    session_syncio.create_new_session(request, "user-1")
    return JsonResponse({"status": "OK"})


def per_route_patterns() -> list[Any]:
    # --- seed: Django snippet ------------------------------------------------------------------
    # fmt: off
    from bastion.recipe.session.framework.django.asyncio import verify_session
    from django.http import HttpRequest
    from bastion.recipe.session.claims import BooleanClaim

    SecondFactorClaim = BooleanClaim(
        key="2fa-completed", fetch_value=lambda _, __: False)

    @verify_session(
        # We add the SecondFactorClaim's has_value(True) validator
        override_global_claim_validators=lambda global_validators, session, user_context: global_validators + \
        [SecondFactorClaim.validators.has_value(True)]
    )
    async def like_comment(request: HttpRequest):
        # All validator checks have passed and the user has completed 2FA
        pass
    # fmt: on
    # -------------------------------------------------------------------------------------------

    @verify_session()
    async def second_factor(request: HttpRequest) -> JsonResponse:
        await request.supertokens.set_claim_value(SecondFactorClaim, True)
        return JsonResponse({"status": "OK"})

    @verify_session()
    async def no_2fa_needed(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"user": request.supertokens.get_user_id()})

    return [
        path("first-factor", first_factor),
        path("like_comment", like_comment),
        path("second-factor", second_factor),
        path("no-2fa-needed", no_2fa_needed),
    ]


def per_route_sync_patterns() -> list[Any]:
    """The seed's app with plain views: the syncio ``verify_session``."""
    from bastion.recipe.session.claims import BooleanClaim

    SecondFactorClaim = BooleanClaim(key="2fa-completed", fetch_value=lambda _, __: False)

    @dj_syncio.verify_session(
        override_global_claim_validators=lambda global_validators, session, user_context: (
            global_validators + [SecondFactorClaim.validators.has_value(True)]
        )
    )
    def like_comment(request: HttpRequest) -> None:
        pass

    @dj_syncio.verify_session()
    def second_factor(request: HttpRequest) -> JsonResponse:
        request.supertokens.sync_set_claim_value(SecondFactorClaim, True)
        return JsonResponse({"status": "OK"})

    @dj_syncio.verify_session()
    def no_2fa_needed(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"user": request.supertokens.get_user_id()})

    return [
        path("first-factor", first_factor_sync),
        path("like_comment", like_comment),
        path("second-factor", second_factor),
        path("no-2fa-needed", no_2fa_needed),
    ]


def global_patterns() -> list[Any]:
    """Plain ``verify_session()`` everywhere; the global validator (seed) requires 2FA."""

    @dj_asyncio.verify_session()
    async def like_comment(request: HttpRequest) -> None:
        pass

    @dj_syncio.verify_session()
    def profile(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"user": request.supertokens.get_user_id()})

    @dj_asyncio.verify_session(override_global_claim_validators=lambda validators, s, uc: [])
    async def second_factor(request: HttpRequest) -> JsonResponse:
        await request.supertokens.set_claim_value(GlobalSecondFactorClaim, True)
        return JsonResponse({"status": "OK"})

    return [
        path("first-factor", first_factor),
        path("like_comment", like_comment),
        path("profile", profile),
        path("second-factor", second_factor),
    ]


urlpatterns = per_route_patterns()
