"""``verify_session`` for Django views: :mod:`.asyncio` for ``async def`` views, :mod:`.syncio`
for plain ones. Both verify with the same coroutine and put the session on
``request.supertokens``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import JsonResponse

from bastion.framework.django import DjangoRequest
from bastion.recipe.session.interfaces import OverrideGlobalValidators
from bastion.sessions.container import SessionContainer
from bastion.sessions.request_flow import get_session_from_request

__all__ = ["VerifyOptions", "as_response", "verify_request"]


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """The options of ``verify_session``, as the seed names them."""

    session_required: bool = True
    anti_csrf_check: bool | None = None
    check_database: bool = False
    override_global_claim_validators: OverrideGlobalValidators | None = None
    user_context: dict[str, Any] | None = None


async def verify_request(request: Any, options: VerifyOptions) -> SessionContainer | None:
    """Verify ``request``'s session and store it on ``request.supertokens``."""
    session = await get_session_from_request(
        DjangoRequest(request),
        session_required=options.session_required,
        anti_csrf_check=options.anti_csrf_check,
        check_database=options.check_database,
        override_global_claim_validators=options.override_global_claim_validators,
        user_context=dict(options.user_context) if options.user_context is not None else None,
    )
    request.supertokens = session
    return session


def as_response(value: Any) -> Any:
    """The view's response; nothing becomes 200 JSON ``null``, as FastAPI answers."""
    # So the seed's snippets, whose bodies are ``pass``, behave the same in every framework.
    return JsonResponse(None, safe=False) if value is None else value
