"""``verify_session`` for ``async def`` Django views (ASGI, or WSGI through asgiref).

::

    @verify_session(override_global_claim_validators=...)
    async def like_comment(request: HttpRequest):
        session = request.supertokens
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction

from bastion.errors import ConfigError
from bastion.recipe.session.framework.django import VerifyOptions, as_response, verify_request
from bastion.recipe.session.interfaces import OverrideGlobalValidators

__all__ = ["verify_session"]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: OverrideGlobalValidators | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """A decorator for async views that verifies the session (401/403 on failure) first.

    Args:
        session_required: when False a request without a session reaches the view with
            ``request.supertokens`` set to None.
        anti_csrf_check: force the anti-CSRF check on or off (default: on unless ``GET``).
        check_database: also check that the session still exists in the database.
        override_global_claim_validators: ``(global_validators, session, user_context)`` ->
            the validators to run for this route.
        user_context: passed to the recipe functions and overrides.

    Raises:
        ConfigError: when applied to a plain ``def`` view (use the ``syncio`` one).
    """
    options = VerifyOptions(
        session_required,
        anti_csrf_check,
        check_database,
        override_global_claim_validators,
        user_context,
    )

    def decorator(view: F) -> F:
        if not iscoroutinefunction(view):
            raise ConfigError(
                f"{view.__qualname__} is not async: decorate it with "
                "bastion.recipe.session.framework.django.syncio.verify_session"
            )

        @functools.wraps(view)
        async def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            await verify_request(request, options)
            return as_response(await view(request, *args, **kwargs))

        return cast("F", wrapper)

    return decorator
