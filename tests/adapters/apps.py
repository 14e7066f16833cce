"""One test app, written for each framework: the same routes, the same answers.

Routes (besides bastion's ``/auth`` API):

- ``POST /create?user=`` creates a session (``user-1`` by default); ``POST /create-then-fail``
  creates one and then raises;
- ``GET /verify`` needs a session; ``GET /optional`` takes one if present;
- ``POST /like_comment`` needs the second factor (the seed's per-route validator, body ``pass``);
- ``POST /second-factor`` sets the claim;
- ``GET /whoami`` answers the user and session handle; ``POST /touch?n=`` merges ``{"n": n}``
  into the access-token payload (a new token on the response).

With ``cors=True`` each app gets its framework's usual CORS middleware, configured alike:
Starlette's ``CORSMiddleware``, ``flask-cors`` and ``django-cors-headers``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from starlette.middleware.cors import CORSMiddleware

import bastion
from bastion.recipe.session import SessionContainer
from bastion.recipe.session.claims import BooleanClaim

WEBSITE_DOMAIN = "http://127.0.0.1:3000"
CORS_HEADERS = ["content-type", *bastion.get_all_cors_headers()]
CORS_METHODS = ["DELETE", "GET", "OPTIONS", "POST", "PUT"]

SecondFactorClaim = BooleanClaim(key="2fa-completed", fetch_value=lambda _, __: False)


def _needs_2fa(global_validators: list[Any], session: Any, user_context: Any) -> list[Any]:
    return [*global_validators, SecondFactorClaim.validators.has_value(True)]


def fastapi_app(*, cors: bool = False) -> Any:
    # (FastAPI resolves the annotations below from this module's globals.)
    from bastion.framework.fastapi import get_middleware
    from bastion.recipe.session.asyncio import create_new_session
    from bastion.recipe.session.framework.fastapi import verify_session

    app = FastAPI()
    app.add_middleware(get_middleware())
    if cors:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[WEBSITE_DOMAIN],
            allow_credentials=True,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
        )

    @app.post("/create")
    async def create(request: Request, user: str = "user-1") -> dict[str, str]:
        await create_new_session(request, user)
        return {"status": "OK"}

    @app.post("/create-then-fail")
    async def create_then_fail(request: Request) -> None:
        await create_new_session(request, "user-1")
        raise RuntimeError("the view failed after creating a session")

    @app.get("/verify")
    async def verify(session: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"user": session.get_user_id()}

    @app.get("/optional")
    async def optional(
        session: SessionContainer | None = Depends(verify_session(session_required=False)),
    ) -> dict[str, Any]:
        return {"user": session.get_user_id() if session is not None else None}

    @app.post("/like_comment")
    async def like_comment(
        session: SessionContainer = Depends(
            verify_session(override_global_claim_validators=_needs_2fa)
        ),
    ) -> None:
        pass

    @app.post("/second-factor")
    async def second_factor(
        session: SessionContainer = Depends(verify_session()),
    ) -> dict[str, str]:
        await session.set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    @app.get("/whoami")
    async def whoami(session: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"user": session.get_user_id(), "handle": session.get_handle()}

    @app.post("/touch")
    async def touch(n: int, session: SessionContainer = Depends(verify_session())) -> Any:
        await session.merge_into_access_token_payload({"n": n})
        return {"user": session.get_user_id(), "n": n}

    return app


def flask_app(*, cors: bool = False) -> Any:
    from flask import Flask, request
    from flask_cors import CORS

    from bastion.framework.flask import Middleware
    from bastion.recipe.session.framework.flask import get_session, verify_session
    from bastion.recipe.session.syncio import create_new_session

    app = Flask(__name__)
    Middleware(app)
    if cors:
        CORS(
            app,
            origins=[WEBSITE_DOMAIN],
            supports_credentials=True,
            methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
        )

    def session() -> Any:
        current = get_session()
        assert current is not None
        return current

    @app.post("/create")
    def create() -> Any:
        create_new_session(request, request.args.get("user", "user-1"))
        return {"status": "OK"}

    @app.post("/create-then-fail")
    def create_then_fail() -> Any:
        create_new_session(request, "user-1")
        raise RuntimeError("the view failed after creating a session")

    @app.get("/verify")
    @verify_session()
    def verify() -> Any:
        return {"user": session().get_user_id()}

    @app.get("/optional")
    @verify_session(session_required=False)
    def optional() -> Any:
        current = get_session()
        return {"user": current.get_user_id() if current is not None else None}

    @app.post("/like_comment")
    @verify_session(override_global_claim_validators=_needs_2fa)
    def like_comment() -> None:
        pass

    @app.post("/second-factor")
    @verify_session()
    def second_factor() -> Any:
        session().sync_set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    @app.get("/whoami")
    @verify_session()
    def whoami() -> Any:
        return {"user": session().get_user_id(), "handle": session().get_handle()}

    @app.post("/touch")
    @verify_session()
    def touch() -> Any:
        n = int(request.args["n"])
        session().sync_merge_into_access_token_payload({"n": n})
        return {"user": session().get_user_id(), "n": n}

    return app


def _django_sync_patterns() -> list[Any]:
    from django.http import JsonResponse

    from bastion.recipe.session.framework.django.syncio import verify_session
    from bastion.recipe.session.syncio import create_new_session

    def create(request: Any) -> Any:
        create_new_session(request, request.GET.get("user", "user-1"))
        return JsonResponse({"status": "OK"})

    def create_then_fail(request: Any) -> Any:
        create_new_session(request, "user-1")
        raise RuntimeError("the view failed after creating a session")

    @verify_session()
    def verify(request: Any) -> Any:
        return JsonResponse({"user": request.supertokens.get_user_id()})

    @verify_session(session_required=False)
    def optional(request: Any) -> Any:
        current = request.supertokens
        return JsonResponse({"user": current.get_user_id() if current is not None else None})

    @verify_session(override_global_claim_validators=_needs_2fa)
    def like_comment(request: Any) -> None:
        pass

    @verify_session()
    def second_factor(request: Any) -> Any:
        request.supertokens.sync_set_claim_value(SecondFactorClaim, True)
        return JsonResponse({"status": "OK"})

    @verify_session()
    def whoami(request: Any) -> Any:
        session = request.supertokens
        return JsonResponse({"user": session.get_user_id(), "handle": session.get_handle()})

    @verify_session()
    def touch(request: Any) -> Any:
        n = int(request.GET["n"])
        request.supertokens.sync_merge_into_access_token_payload({"n": n})
        return JsonResponse({"user": request.supertokens.get_user_id(), "n": n})

    return _django_routes(
        create, create_then_fail, verify, optional, like_comment, second_factor, whoami, touch
    )


def _django_async_patterns() -> list[Any]:
    from django.http import JsonResponse

    from bastion.recipe.session.asyncio import create_new_session
    from bastion.recipe.session.framework.django.asyncio import verify_session

    async def create(request: Any) -> Any:
        await create_new_session(request, request.GET.get("user", "user-1"))
        return JsonResponse({"status": "OK"})

    async def create_then_fail(request: Any) -> Any:
        await create_new_session(request, "user-1")
        raise RuntimeError("the view failed after creating a session")

    @verify_session()
    async def verify(request: Any) -> Any:
        return JsonResponse({"user": request.supertokens.get_user_id()})

    @verify_session(session_required=False)
    async def optional(request: Any) -> Any:
        current = request.supertokens
        return JsonResponse({"user": current.get_user_id() if current is not None else None})

    @verify_session(override_global_claim_validators=_needs_2fa)
    async def like_comment(request: Any) -> None:
        pass

    @verify_session()
    async def second_factor(request: Any) -> Any:
        await request.supertokens.set_claim_value(SecondFactorClaim, True)
        return JsonResponse({"status": "OK"})

    @verify_session()
    async def whoami(request: Any) -> Any:
        session = request.supertokens
        return JsonResponse({"user": session.get_user_id(), "handle": session.get_handle()})

    @verify_session()
    async def touch(request: Any) -> Any:
        n = int(request.GET["n"])
        await request.supertokens.merge_into_access_token_payload({"n": n})
        return JsonResponse({"user": request.supertokens.get_user_id(), "n": n})

    return _django_routes(
        create, create_then_fail, verify, optional, like_comment, second_factor, whoami, touch
    )


def _django_routes(*views: Any) -> list[Any]:
    from django.urls import path

    names = [
        "create",
        "create-then-fail",
        "verify",
        "optional",
        "like_comment",
        "second-factor",
        "whoami",
        "touch",
    ]
    return [path(name, view) for name, view in zip(names, views, strict=True)]


def _django_middleware(cors: bool) -> list[str]:
    from tests.apps.django_setup import BASTION_MIDDLEWARE, CORS_MIDDLEWARE

    return [CORS_MIDDLEWARE, BASTION_MIDDLEWARE] if cors else [BASTION_MIDDLEWARE]


def django_wsgi_app(*, cors: bool = False) -> Any:
    """Django under WSGI with plain views (the syncio ``verify_session``)."""
    from tests.apps import django_setup

    return django_setup.wsgi_app(_django_sync_patterns(), _django_middleware(cors))


def django_asgi_app(*, cors: bool = False) -> Any:
    """Django under ASGI with async views (the asyncio ``verify_session``)."""
    from tests.apps import django_setup

    return django_setup.asgi_app(_django_async_patterns(), _django_middleware(cors))
