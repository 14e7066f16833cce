"""``verify_session`` for plain (``def``) Django views, under WSGI or ASGI.

::

    @verify_session(override_global_claim_validators=...)
    def like_comment(request: HttpRequest):
        session = request.supertokens

It runs the same verification coroutine as the async decorator, driven to completion by
:func:`bastion.bridge.run_sync` (no event loop).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction

from bastion.bridge import run_sync
from bastion.errors import ConfigError
from bastion.recipe.session.framework.django import VerifyOptions, as_response, verify_request
from bastion.recipe.session.interfaces import OverrideGlobalValidators

__all__ = ["verify_session"]

F = TypeVar("F", bound=Callable[..., Any])


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: OverrideGlobalValidators | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """A decorator for plain views that verifies the session (401/403 on failure) first.

    Args:
        session_required: when False a request without a session reaches the view with
            ``request.supertokens`` set to None.
        anti_csrf_check: force the anti-CSRF check on or off (default: on unless ``GET``).
        check_database: also check that the session still exists in the database.
        override_global_claim_validators: ``(global_validators, session, user_context)`` ->
            the validators to run for this route.
        user_context: passed to the recipe functions and overrides.

    Raises:
        ConfigError: when applied to an ``async def`` view (use the ``asyncio`` one).
    """
    options = VerifyOptions(
        session_required,
        anti_csrf_check,
        check_database,
        override_global_claim_validators,
        user_context,
    )

    def decorator(view: F) -> F:
        if iscoroutinefunction(view):
            raise ConfigError(
                f"{view.__qualname__} is async: decorate it with "
                "bastion.recipe.session.framework.django.asyncio.verify_session"
            )

        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            run_sync(verify_request(request, options))
            return as_response(view(request, *args, **kwargs))

        return cast("F", wrapper)

    return decorator
