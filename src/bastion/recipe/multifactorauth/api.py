"""HTTP endpoints of the MFA recipe (rid ``multifactorauth``).

- ``PUT {b}/mfa/info`` (spec 7.4).
- ``GET {b}/mfa/recovery-codes`` → ``{"status":"OK","remaining":n,"total":m}``.
- ``POST {b}/mfa/recovery-codes`` → ``{"status":"OK","recoveryCodes":[…]}`` (a new set; needs
  the MFA requirements met and a second factor completed recently, else 403 ``st-mfa``).
- ``POST {b}/mfa/recovery-codes/verify``, body ``{"recoveryCode": "…"}`` →
  ``{"status":"OK","remainingCodes":n}`` | ``{"status":"INVALID_RECOVERY_CODE_ERROR",
  "currentNumberOfFailedAttempts":n,"maxNumberOfFailedAttempts":m}`` |
  ``{"status":"LIMIT_REACHED_ERROR","retryAfterMs":ms}``.

All need a session, checked against the database; global claims are not checked (they are what
these routes fix). A session that still owes a factor past the second factor's deadline is ended
(401) by every one of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bastion.errors import BadInputError, UnauthorisedError
from bastion.http.responses import json_response
from bastion.http.router import ApiRoute
from bastion.http.types import BaseRequest, HttpResponse
from bastion.recipe.multifactorauth.interfaces import APIOptions
from bastion.sessions.request_flow import get_session_from_request, user_context_for

if TYPE_CHECKING:
    from bastion.recipe.multifactorauth.recipe import MultiFactorAuthRecipe
    from bastion.sessions.container import SessionContainer

__all__ = ["claims_off_session", "json_object", "routes"]

RECIPE_ID = "multifactorauth"


async def claims_off_session(
    request: BaseRequest, user_context: dict[str, Any], mfa: MultiFactorAuthRecipe
) -> SessionContainer:
    """The request's session for a factor route: required, checked against the database, past
    the second factor's deadline if it owes one, global claim validators not run."""
    session = await get_session_from_request(
        request,
        check_database=True,
        override_global_claim_validators=lambda v, s, c: [],
        user_context=user_context,
    )
    if session is None:  # pragma: no cover - session_required=True raises instead
        raise UnauthorisedError("Session does not exist", clear_tokens=False)
    await mfa.check_second_factor_deadline(session, user_context)
    return session


async def json_object(request: BaseRequest) -> dict[str, Any]:
    """The JSON body, which must be an object (400 otherwise)."""
    body = await request.json_body()
    if not isinstance(body, dict):
        raise BadInputError("the request body must be a JSON object")
    return body


def routes(recipe: MultiFactorAuthRecipe) -> list[ApiRoute]:
    apis = recipe.api_implementation

    def options(request: BaseRequest) -> APIOptions:
        return APIOptions(request, recipe, recipe.recipe_implementation)

    async def mfa_info(request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        await request.body_bytes()  # the SDK sends "{}": read it, ignore it
        session = await claims_off_session(request, context, recipe)
        body = await apis.resync_session_and_fetch_mfa_info_put(options(request), session, context)
        return json_response(200, body, request.state.changes)

    async def codes_get(request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        session = await claims_off_session(request, context, recipe)
        body = await apis.recovery_codes_get(options(request), session, context)
        return json_response(200, body, request.state.changes)

    async def codes_post(request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        await request.body_bytes()
        session = await claims_off_session(request, context, recipe)
        body = await apis.recovery_codes_post(options(request), session, context)
        return json_response(200, body, request.state.changes)

    async def code_verify(request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        payload = await json_object(request)
        code = payload.get("recoveryCode")
        if not isinstance(code, str) or not code.strip():
            raise BadInputError("recoveryCode must be a non-empty string")
        session = await claims_off_session(request, context, recipe)
        body = await apis.recovery_code_verify_post(code, options(request), session, context)
        return json_response(200, body, request.state.changes)

    return [
        ApiRoute(
            "PUT",
            "/mfa/info",
            RECIPE_ID,
            mfa_info,
            lambda: apis.disable_resync_session_and_fetch_mfa_info_put,
        ),
        ApiRoute(
            "GET",
            "/mfa/recovery-codes",
            RECIPE_ID,
            codes_get,
            lambda: apis.disable_recovery_codes_get,
        ),
        ApiRoute(
            "POST",
            "/mfa/recovery-codes",
            RECIPE_ID,
            codes_post,
            lambda: apis.disable_recovery_codes_post,
        ),
        ApiRoute(
            "POST",
            "/mfa/recovery-codes/verify",
            RECIPE_ID,
            code_verify,
            lambda: apis.disable_recovery_code_verify_post,
            own_rate_limit=True,
        ),
    ]
