"""``verify_session`` as a Flask view decorator; the session is put on ``flask.g.supertokens``.

::

    @app.route("/like_comment", methods=["POST"])
    @verify_session(override_global_claim_validators=...)
    def like_comment():
        session = get_session()

The decorator works on plain and ``async def`` views (Flask runs the latter through asgiref).
For a plain view it drives the verification coroutine with :func:`bastion.bridge.run_sync`; for
an async view it awaits the same coroutine.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from bastion.bridge import run_sync
from bastion.framework.flask import SESSION_KEY, FlaskRequest
from bastion.recipe.session.interfaces import OverrideGlobalValidators
from bastion.sessions.container import SessionContainer
from bastion.sessions.request_flow import get_session_from_request

__all__ = ["get_session", "verify_session"]

F = TypeVar("F", bound=Callable[..., Any])


def get_session() -> SessionContainer | None:
    """The session ``verify_session`` verified for the current request, or None."""
    session = g.get(SESSION_KEY)
    return session if isinstance(session, SessionContainer) else None


def _as_response(value: Any) -> ResponseReturnValue:
    # A view that returns nothing answers 200 with JSON null, as FastAPI does, so the seed's
    # snippets (whose bodies are ``pass``) behave the same in every framework.
    return jsonify(None) if value is None else cast("ResponseReturnValue", value)


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: OverrideGlobalValidators | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """A decorator that verifies the session (401/403 on failure) before the view runs.

    Args:
        session_required: when False a request without a session reaches the view, and
            :func:`get_session` returns None.
        anti_csrf_check: force the anti-CSRF check on or off (default: on unless ``GET``).
        check_database: also check that the session still exists in the database.
        override_global_claim_validators: ``(global_validators, session, user_context)`` ->
            the validators to run for this route.
        user_context: passed to the recipe functions and overrides.

    Returns:
        The decorator. The verified session is stored on ``flask.g.supertokens``.
    """

    async def verify() -> None:
        session = await get_session_from_request(
            FlaskRequest(),
            session_required=session_required,
            anti_csrf_check=anti_csrf_check,
            check_database=check_database,
            override_global_claim_validators=override_global_claim_validators,
            user_context=dict(user_context) if user_context is not None else None,
        )
        setattr(g, SESSION_KEY, session)

    def decorator(view: F) -> F:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
                await verify()
                return _as_response(await view(*args, **kwargs))

            return cast("F", async_wrapper)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            run_sync(verify())
            return _as_response(view(*args, **kwargs))

        return cast("F", wrapper)

    return decorator
