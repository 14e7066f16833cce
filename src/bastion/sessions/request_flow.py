"""Sessions in the context of a request: which token to read, which checks apply, what to write.

These are the functions behind ``verify_session``, ``create_new_session(request, ...)`` and the
refresh API. They call the (possibly overridden) recipe implementation for the work itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bastion.bridge import maybe_await
from bastion.errors import (
    ClearDuplicateSessionCookiesError,
    ConfigError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from bastion.http.types import BaseRequest
from bastion.runtime import current_app, current_clock
from bastion.sessions.config import SessionConfig, TokenTransferMethod, default_transfer_method
from bastion.sessions.container import SessionContainer
from bastion.sessions.transport import (
    ACCESS_TOKEN_COOKIE,
    ANTI_CSRF_HEADER,
    LEGACY_ID_REFRESH_COOKIE,
    REFRESH_TOKEN_COOKIE,
    bearer_token,
    clear_legacy_cookie,
    clear_tokens,
    write_tokens,
)
from bastion.sessions.verifier import TOKEN_PARSING_FAILED

if TYPE_CHECKING:
    from bastion.recipe.session.interfaces import OverrideGlobalValidators
    from bastion.recipe.session.recipe import SessionRecipe

__all__ = [
    "create_session_in_request",
    "get_session_from_request",
    "refresh_session_in_request",
    "user_context_for",
]

_DUPLICATE_COOKIES = (
    "The request contains multiple session cookies. We are clearing the cookie from "
    "older_cookie_domain. Session will be refreshed in the next refresh call."
)
_NO_SESSION = (
    "Session does not exist. Are you sending the session tokens in the request with the "
    "appropriate token transfer method?"
)


def user_context_for(request: BaseRequest, user_context: dict[str, Any] | None) -> dict[str, Any]:
    """The ``user_context`` dict, seeded with the request as the protocol does."""
    if user_context is None:
        return {"_default": {"request": request}}
    user_context.setdefault("_default", {"request": request})
    return user_context


def _recipe() -> SessionRecipe:
    return current_app().session_recipe


def _access_token_in(
    request: BaseRequest, recipe: SessionRecipe
) -> tuple[str | None, TokenTransferMethod | None]:
    """The access token to use and how it came: a parseable header token wins over the cookie."""
    chooser = recipe.config.get_token_transfer_method
    # The default chooser reads tokens from either method; skip the call on the hot path.
    allowed = "any" if chooser is default_transfer_method else chooser(request, False, {})
    if allowed in ("header", "any"):
        token = bearer_token(request)
        # A Bearer token that is not one of ours (another system's JWT) is ignored.
        if token is not None and recipe.verifier.looks_like_ours(token):
            return token, "header"
    if allowed in ("cookie", "any"):
        cookies = request.cookie_values(ACCESS_TOKEN_COOKIE)
        if len(cookies) > 1:
            raise TryRefreshTokenError("The request contains multiple session cookies")
        if cookies and cookies[0]:
            return cookies[0], "cookie"
    return None, None


async def get_session_from_request(
    request: BaseRequest,
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: OverrideGlobalValidators | None = None,
    user_context: dict[str, Any] | None = None,
) -> SessionContainer | None:
    """Verify the request's session, run the claim validators and attach it to the request."""
    http_method = request.method()
    if http_method in ("OPTIONS", "TRACE"):
        # Preflights and traces carry no credentials: never let one into a protected view.
        if session_required:
            raise UnauthorisedError(_NO_SESSION, clear_tokens=False)
        return None
    recipe = _recipe()
    config = recipe.config
    context = user_context_for(request, user_context)
    if request.get_cookie(LEGACY_ID_REFRESH_COOKIE) is not None:
        raise TryRefreshTokenError("using legacy session, please call the refresh API")
    token, method = _access_token_in(request, recipe)
    if token is None or method is None:
        if session_required:
            raise UnauthorisedError(_NO_SESSION, clear_tokens=False)
        return None
    do_csrf_check = _anti_csrf_token_check_due(
        request,
        config,
        method,
        http_method != "GET" if anti_csrf_check is None else anti_csrf_check,
    )
    try:
        session = await recipe.recipe_implementation.get_session(
            token, request.get_header(ANTI_CSRF_HEADER), do_csrf_check, check_database, context
        )
    except UnauthorisedError as exc:
        if exc.message == TOKEN_PARSING_FAILED and not session_required:
            return None
        raise
    session.transfer_method = method
    session.request_state = request.state
    validators = await recipe.recipe_implementation.get_global_claim_validators(
        session.get_user_id(), list(recipe.claim_validators_added_by_other_recipes), context
    )
    if override_global_claim_validators is not None:
        validators = await maybe_await(
            override_global_claim_validators(validators, session, context)
        )
    if validators:
        await session.assert_claims(validators, context)
    request.state.session = session
    return session


def _anti_csrf_token_check_due(
    request: BaseRequest, config: SessionConfig, method: TokenTransferMethod, wanted: bool
) -> bool:
    """Apply the cheap anti-CSRF rules here; True if the token comparison is still due."""
    if not wanted or method == "header":
        return False  # headers cannot be set by a cross-site form or image
    if config.anti_csrf == "VIA_CUSTOM_HEADER":
        if request.get_header("rid") is None:
            raise TryRefreshTokenError(
                "anti-csrf check failed. Please pass 'rid: \"session\"' header in the request, "
                "or set checkAntiCsrf to false"
            )
        return False
    return config.anti_csrf == "VIA_TOKEN"


def _transfer_for_new_session(
    request: BaseRequest, config: SessionConfig, context: dict[str, Any]
) -> TokenTransferMethod:
    chosen = config.get_token_transfer_method(request, True, context)
    if chosen == "any":
        return (
            "cookie" if (request.get_header("st-auth-mode") or "").lower() == "cookie" else "header"
        )
    return chosen


async def create_session_in_request(
    request: BaseRequest,
    user_id: str,
    access_token_payload: dict[str, Any] | None = None,
    session_data_in_database: dict[str, Any] | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    tenant_id: str = "public",
) -> SessionContainer:
    """Create a session and queue its tokens on the response to ``request``."""
    recipe = _recipe()
    config = recipe.config
    context = user_context_for(request, user_context)
    method = _transfer_for_new_session(request, config, context)
    if (
        method == "cookie"
        and config.cookie.same_site == "none"
        and not config.cookie.secure
        and not config.local_dev
    ):
        raise ConfigError(
            "cookies with SameSite=None must be Secure: serve the API over https or set "
            "cookie_secure=True"
        )
    session = await recipe.recipe_implementation.create_new_session(
        user_id,
        access_token_payload,
        session_data_in_database,
        method == "header",
        context,
        tenant_id=tenant_id,
    )
    _attach_new_tokens(request, config, session, method)
    return session


def _attach_new_tokens(
    request: BaseRequest,
    config: SessionConfig,
    session: SessionContainer,
    method: TokenTransferMethod,
) -> None:
    changes = request.state.changes
    other: TokenTransferMethod = "header" if method == "cookie" else "cookie"
    if _has_tokens_in(request, other):
        clear_tokens(changes, config, other, front_token=False)
    if session.issued is not None:
        write_tokens(changes, config, method, session.issued, now_ms=_now())
    session.transfer_method = method
    session.request_state = request.state
    request.state.session = session


def _has_tokens_in(request: BaseRequest, method: TokenTransferMethod) -> bool:
    if method == "header":
        return bearer_token(request) is not None
    return bool(request.get_cookie(ACCESS_TOKEN_COOKIE) or request.get_cookie(REFRESH_TOKEN_COOKIE))


def _now() -> int:
    return current_clock().now_ms()


async def refresh_session_in_request(
    request: BaseRequest, user_context: dict[str, Any] | None = None
) -> SessionContainer:
    """Rotate the request's refresh token and queue the new tokens."""
    recipe = _recipe()
    config = recipe.config
    context = user_context_for(request, user_context)
    allowed = config.get_token_transfer_method(request, False, context)
    if request.get_cookie(LEGACY_ID_REFRESH_COOKIE) is not None:
        clear_legacy_cookie(request.state.changes, config)
    token: str | None = None
    method: TokenTransferMethod | None = None
    if allowed in ("header", "any"):
        token = bearer_token(request)
        method = "header" if token else None
    if token is None and allowed in ("cookie", "any"):
        cookies = request.cookie_values(REFRESH_TOKEN_COOKIE)
        if len(cookies) > 1 or len(request.cookie_values(ACCESS_TOKEN_COOKIE)) > 1:
            if config.older_cookie_domain is not None:
                raise ClearDuplicateSessionCookiesError(_DUPLICATE_COOKIES)
            # Which one is current cannot be told apart: start over, deterministically.
            raise UnauthorisedError("The request contains multiple session cookies")
        if cookies and cookies[0]:
            token, method = cookies[0], "cookie"
    if token is None or method is None:
        if request.get_cookie(ACCESS_TOKEN_COOKIE):
            raise UnauthorisedError(
                "Refresh token not found but access token is present. Clearing all tokens."
            )
        raise UnauthorisedError(
            "Refresh token not found. Are you sending the refresh token in the request?"
        )
    disable_anti_csrf = method == "header"
    if method == "cookie" and config.anti_csrf == "VIA_CUSTOM_HEADER":
        if request.get_header("rid") is None:
            raise UnauthorisedError(
                "anti-csrf check failed. Please pass 'rid: \"session\"' header in the request."
            )
        disable_anti_csrf = True
    session = await recipe.recipe_implementation.refresh_session(
        token, request.get_header(ANTI_CSRF_HEADER), disable_anti_csrf, context
    )
    _attach_new_tokens(request, config, session, method)
    return session
