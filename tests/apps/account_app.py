"""A FastAPI app with every recipe that signs users in, plus account routes of its own.

bastion's ``/auth`` API (email-password, email verification, MFA with TOTP required of everyone,
passwordless email codes as a second factor), and the routes an app writes itself, each using
``verify_sensitive_operation`` as ``docs/mfa.md`` shows:

- ``POST /account/password`` ``{"oldPassword", "newPassword"}``: change the password;
- ``POST /account/email`` ``{"email"}``: change the email;
- ``POST /account/sign-out-everywhere``: revoke every session of the user;
- ``GET /protected``: any session that passed the global validators.

``init(...)`` configures bastion for it; ``build()`` makes the ASGI app. The same app runs in a
thread (``serve``) or in its own process (``tests/apps/account_server.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, Depends, FastAPI

import bastion
from bastion.clock import Clock
from bastion.email import EmailBackend
from bastion.framework.fastapi import get_middleware
from bastion.recipe import (
    emailpassword,
    emailverification,
    multifactorauth,
    passwordless,
    session,
    totp,
)
from bastion.recipe.emailpassword.asyncio import sign_in, update_email_or_password
from bastion.recipe.emailpassword.interfaces import (
    EmailAlreadyExistsError,
    PasswordPolicyViolationError,
    WrongCredentialsError,
)
from bastion.recipe.session import SessionContainer
from bastion.recipe.session.asyncio import (
    revoke_all_sessions_for_user,
    verify_sensitive_operation,
)
from bastion.recipe.session.framework.fastapi import verify_session
from bastion.storage.base import Store
from tests.conftest import app_info

FAST_HASHING = emailpassword.PasswordHashing(time_cost=1, memory_cost_kib=1024)


def init(
    database_url: str | None,
    *,
    outbox: EmailBackend,
    clock: Clock | None = None,
    store: Store | None = None,
    session_options: dict[str, Any] | None = None,
    mfa_options: dict[str, Any] | None = None,
    ep_options: dict[str, Any] | None = None,
    **app_options: Any,
) -> bastion.Bastion:
    """bastion for :func:`build`: TOTP required of every user, email verification optional."""
    ep: dict[str, Any] = {"password_hashing": FAST_HASHING, "email_delivery": outbox}
    ep.update(ep_options or {})
    mfa: dict[str, Any] = {
        "first_factors": ["emailpassword"],
        "required_secondary_factors": ["totp"],
    }
    mfa.update(mfa_options or {})
    app_options.setdefault("api_requests_per_minute", None)
    return bastion.init(
        app_info=app_info(),
        recipe_list=[
            session.init(**(session_options or {})),
            emailpassword.init(**ep),
            emailverification.init("OPTIONAL", email_delivery=outbox),
            multifactorauth.init(**mfa),
            totp.init(),
            passwordless.init(email_delivery=outbox),
        ],
        database_url=database_url,
        clock=clock,
        store=store,
        **app_options,
    )


def _field_error(message: str) -> dict[str, Any]:
    return {"status": "FIELD_ERROR", "formFields": [{"id": "password", "error": message}]}


def build() -> FastAPI:
    app = FastAPI()
    app.add_middleware(get_middleware())

    @app.get("/protected")
    async def protected(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"user": s.get_user_id()}

    @app.post("/account/password")
    async def change_password(
        old_password: str = Body(..., alias="oldPassword", embed=True),
        new_password: str = Body(..., alias="newPassword", embed=True),
        s: SessionContainer = Depends(verify_session()),
    ) -> dict[str, Any]:
        await verify_sensitive_operation(s)
        user = await bastion_user(s)
        email = next(m.email for m in user.login_methods if m.recipe_id == "emailpassword")
        if isinstance(await sign_in("public", email, old_password), WrongCredentialsError):
            return {"status": "WRONG_CREDENTIALS_ERROR"}
        result = await update_email_or_password(
            s.get_recipe_user_id(), password=new_password, apply_password_policy=True
        )
        if isinstance(result, PasswordPolicyViolationError):
            return _field_error(result.failure_reason)
        return {"status": "OK"}

    @app.post("/account/email")
    async def change_email(
        email: str = Body(..., embed=True), s: SessionContainer = Depends(verify_session())
    ) -> dict[str, Any]:
        await verify_sensitive_operation(s)
        result = await update_email_or_password(s.get_recipe_user_id(), email=email)
        if isinstance(result, EmailAlreadyExistsError):
            return {"status": "EMAIL_ALREADY_EXISTS_ERROR"}
        return {"status": "OK"}

    @app.post("/account/sign-out-everywhere")
    async def sign_out_everywhere(s: SessionContainer = Depends(verify_session())) -> Any:
        return {"revoked": len(await revoke_all_sessions_for_user(s.get_user_id()))}

    return app


async def bastion_user(s: SessionContainer) -> Any:
    from bastion.asyncio import get_user

    user = await get_user(s.get_user_id())
    assert user is not None
    return user
