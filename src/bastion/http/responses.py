"""The one place that turns bastion's errors into HTTP responses (spec section 6)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bastion.bridge import maybe_await
from bastion.errors import (
    BadInputError,
    BastionError,
    ClearDuplicateSessionCookiesError,
    InvalidClaimsError,
    SessionError,
    StorageUnavailableError,
    TokenTheftError,
    TooManyRequestsError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from bastion.http.types import BaseRequest, HttpResponse, ResponseChanges

if TYPE_CHECKING:
    from bastion.sessions.claims import ClaimValidationError
    from bastion.sessions.config import SessionConfig

__all__ = ["STORAGE_UNAVAILABLE_MESSAGE", "ErrorHandlers", "error_response", "json_response"]

logger = logging.getLogger("bastion")

STORAGE_UNAVAILABLE_MESSAGE = "the service is temporarily unavailable, try again shortly"

Handler = Callable[..., "HttpResponse | Awaitable[HttpResponse] | Awaitable[None] | None"]


def json_response(status: int, body: Any, changes: ResponseChanges | None = None) -> HttpResponse:
    return HttpResponse(status, body, changes if changes is not None else ResponseChanges())


class ErrorHandlers:
    """Replacements for the default error answers (``session.InputErrorHandlers``).

    Each callback receives ``(request, ..., response)`` where ``response`` is the default
    :class:`HttpResponse`, already carrying the token-clearing headers, and returns the response
    to send (or None to send the default, possibly modified in place). Clearing cannot be undone
    by a handler: it is applied before the handler runs.
    """

    def __init__(
        self,
        on_unauthorised: Handler | None = None,
        on_try_refresh_token: Handler | None = None,
        on_token_theft_detected: Handler | None = None,
        on_invalid_claim: Handler | None = None,
    ) -> None:
        self.on_unauthorised = on_unauthorised
        self.on_try_refresh_token = on_try_refresh_token
        self.on_token_theft_detected = on_token_theft_detected
        self.on_invalid_claim = on_invalid_claim


async def error_response(
    error: BastionError,
    request: BaseRequest,
    config: SessionConfig,
    handlers: ErrorHandlers | None = None,
) -> HttpResponse | None:
    """The response for ``error``, or None if it is not one bastion answers (re-raise it).

    Session errors go through the app's :class:`ErrorHandlers` (after any token clearing is
    queued, which a handler cannot undo); the others have fixed answers.
    """
    if isinstance(error, SessionError):
        response, callback, args = _session_error(error, config, handlers or ErrorHandlers())
        if callback is not None:
            custom = await maybe_await(callback(request, *args, response))
            if isinstance(custom, HttpResponse):
                custom.changes.merge(response.changes)
                return custom
        return response
    if isinstance(error, BadInputError):
        return json_response(400, {"message": error.message})
    if isinstance(error, TooManyRequestsError):
        response = json_response(429, {"message": error.message})
        if error.retry_after_s is not None:
            response.changes.set_header("retry-after", str(error.retry_after_s))
        return response
    if isinstance(error, StorageUnavailableError):
        # The message names the database (password masked) for the logs, not for the client.
        logger.warning("storage unavailable: %s", error.message)
        response = json_response(503, {"message": STORAGE_UNAVAILABLE_MESSAGE})
        response.changes.set_header("retry-after", str(error.retry_after_s))
        return response
    return None


def _session_error(
    error: SessionError, config: SessionConfig, handlers: ErrorHandlers
) -> tuple[HttpResponse, Handler | None, tuple[Any, ...]]:
    """The default answer to a session error, and the app's handler for it with its arguments."""
    from bastion.sessions.transport import clear_tokens

    changes = ResponseChanges()
    status = config.session_expired_status_code
    if isinstance(error, UnauthorisedError):
        logger.info("session unauthorised: %s", error.message)
        if error.clear_tokens:
            clear_tokens(changes, config, "cookie")
            clear_tokens(changes, config, "header")
        response = json_response(status, {"message": "unauthorised"}, changes)
        return response, handlers.on_unauthorised, (error.message,)
    if isinstance(error, TryRefreshTokenError):
        response = json_response(status, {"message": "try refresh token"}, changes)
        return response, handlers.on_try_refresh_token, (error.message,)
    if isinstance(error, TokenTheftError):
        # The theft_detected audit event was emitted where the session was revoked.
        clear_tokens(changes, config, "cookie")
        clear_tokens(changes, config, "header")
        response = json_response(status, {"message": "token theft detected"}, changes)
        args = (error.session_handle, error.user_id, error.recipe_user_id)
        return response, handlers.on_token_theft_detected, args
    if isinstance(error, InvalidClaimsError):
        challenges = [e.challenge for e in error.payload if e.challenge]
        if challenges:
            changes.set_header("www-authenticate", ", ".join(challenges))
        body = {"message": "invalid claim", "claimValidationErrors": _claim_errors(error.payload)}
        response = json_response(config.invalid_claim_status_code, body, changes)
        return response, handlers.on_invalid_claim, (error.payload,)
    if isinstance(error, ClearDuplicateSessionCookiesError):
        clear_tokens(
            changes, config, "cookie", domain=config.older_cookie_domain, front_token=False
        )
        return json_response(200, {"message": error.message}, changes), None, ()
    raise TypeError(f"no HTTP answer defined for {type(error).__name__}")  # pragma: no cover


def _claim_errors(errors: list[ClaimValidationError]) -> list[dict[str, Any]]:
    return [e.to_json() for e in errors]
