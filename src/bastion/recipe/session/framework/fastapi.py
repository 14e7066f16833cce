"""``verify_session`` as a FastAPI dependency: ``session = Depends(verify_session(...))``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from bastion.framework.asgi import ASGIRequest
from bastion.recipe.session.interfaces import OverrideGlobalValidators
from bastion.sessions.container import SessionContainer
from bastion.sessions.request_flow import get_session_from_request

__all__ = ["verify_session"]


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: OverrideGlobalValidators | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[Request], Awaitable[SessionContainer | None]]:
    """A dependency that verifies the session (401/403 on failure) and returns it.

    With ``session_required=False`` it returns None when there is no session. The session is
    also stored on ``request.state.supertokens``.
    """

    async def dependency(request: Request) -> SessionContainer | None:
        session = await get_session_from_request(
            ASGIRequest(request.scope, request.receive),
            session_required=session_required,
            anti_csrf_check=anti_csrf_check,
            check_database=check_database,
            override_global_claim_validators=override_global_claim_validators,
            user_context=dict(user_context) if user_context is not None else None,
        )
        request.state.supertokens = session
        return session

    return dependency
