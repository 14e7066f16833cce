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
    TokenTheftError,
    TooManyRequestsError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from bastion.http.types import BaseRequest, HttpResponse, ResponseChanges

if TYPE_CHECKING:
    from bastion.sessions.claims import ClaimValidationError
    from bastion.sessions.config import SessionConfig

__all__ = ["ErrorHandlers", "error_response", "json_response"]

logger = logging.getLogger("bastion")

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
    """The response for ``error``, or None if it is not one bastion answers (re-raise it)."""
    from bastion.sessions.transport import clear_tokens

    handlers = handlers or ErrorHandlers()
    changes = ResponseChanges()
    status = config.session_expired_status_code
    callback: Handler | None = None
    args: tuple[Any, ...] = ()
    if isinstance(error, UnauthorisedError):
        logger.info("session unauthorised: %s", error.message)
        if error.clear_tokens:
            clear_tokens(changes, config, "cookie")
            clear_tokens(changes, config, "header")
        response = json_response(status, {"message": "unauthorised"}, changes)
        callback, args = handlers.on_unauthorised, (error.message,)
    elif isinstance(error, TryRefreshTokenError):
        response = json_response(status, {"message": "try refresh token"}, changes)
        callback, args = handlers.on_try_refresh_token, (error.message,)
    elif isinstance(error, TokenTheftError):
        logger.warning(
            "refresh token theft detected; session revoked", extra={"user_id": error.user_id}
        )
        clear_tokens(changes, config, "cookie")
        clear_tokens(changes, config, "header")
        response = json_response(status, {"message": "token theft detected"}, changes)
        callback = handlers.on_token_theft_detected
        args = (error.session_handle, error.user_id, error.recipe_user_id)
    elif isinstance(error, InvalidClaimsError):
        response = json_response(
            config.invalid_claim_status_code,
            {"message": "invalid claim", "claimValidationErrors": _claim_errors(error.payload)},
            changes,
        )
        callback, args = handlers.on_invalid_claim, (error.payload,)
    elif isinstance(error, ClearDuplicateSessionCookiesError):
        clear_tokens(
            changes, config, "cookie", domain=config.older_cookie_domain, front_token=False
        )
        return json_response(200, {"message": error.message}, changes)
    elif isinstance(error, BadInputError):
        return json_response(400, {"message": error.message}, changes)
    elif isinstance(error, TooManyRequestsError):
        if error.retry_after_s is not None:
            changes.set_header("retry-after", str(error.retry_after_s))
        return json_response(429, {"message": error.message}, changes)
    else:
        return None
    if callback is not None:
        custom = await maybe_await(callback(request, *args, response))
        if isinstance(custom, HttpResponse):
            custom.changes.merge(changes)
            return custom
    return response


def _claim_errors(errors: list[ClaimValidationError]) -> list[dict[str, Any]]:
    return [e.to_json() for e in errors]
