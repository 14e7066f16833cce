"""HTTP endpoints of the passwordless recipe (rid ``passwordless``; spec 7.3).

- ``POST {b}/signinup/code`` ``{"email"} | {"phoneNumber"}`` (+ ``shouldTryLinkingWithSessionUser``)
  → ``OK {deviceId, preAuthSessionId, flowType}`` | ``SIGN_IN_UP_NOT_ALLOWED {reason}`` |
  ``GENERAL_ERROR {message}`` (an invalid email or phone number).
- ``POST {b}/signinup/code/resend`` ``{deviceId, preAuthSessionId}`` → ``OK`` |
  ``RESTART_FLOW_ERROR``.
- ``POST {b}/signinup/code/consume`` ``{preAuthSessionId, deviceId + userInputCode | linkCode}``
  → ``OK {user, createdNewRecipeUser}`` | ``INCORRECT_USER_INPUT_CODE_ERROR`` /
  ``EXPIRED_USER_INPUT_CODE_ERROR {failedCodeInputAttemptCount, maximumCodeInputAttempts}`` |
  ``RESTART_FLOW_ERROR`` | ``SIGN_IN_UP_NOT_ALLOWED {reason}``.
- ``GET {b}/passwordless/email/exists?email=`` and ``…/phonenumber/exists?phoneNumber=`` (old
  aliases under ``/signup/``) → ``OK {exists}``.

A body bastion cannot read (not an object, a missing or mistyped field) answers 400
``{"message": …}``; sending too often answers 429.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bastion.bridge import maybe_await
from bastion.errors import BadInputError
from bastion.http.responses import json_response
from bastion.http.router import ApiRoute
from bastion.http.types import BaseRequest, HttpResponse
from bastion.recipe.passwordless.contact import (
    PHONE_INVALID,
    RECIPE_ID,
    Contact,
    default_email_error,
    normalise_phone_number,
)
from bastion.recipe.passwordless.interfaces import APIOptions
from bastion.sessions.request_flow import user_context_for
from bastion.users.emails import normalise_email

if TYPE_CHECKING:
    from bastion.recipe.passwordless.recipe import PasswordlessRecipe

__all__ = ["routes"]

PUBLIC = "public"
LINKING_FLAG = "shouldTryLinkingWithSessionUser"
ONE_OF_CODE_OR_LINK = "Please provide one of (linkCode) or (deviceId+userInputCode) and not both"


async def _object(request: BaseRequest) -> dict[str, Any]:
    body = await request.json_body()
    if not isinstance(body, dict):
        raise BadInputError("the request body must be a JSON object")
    return body


def _string(body: dict[str, Any], name: str, missing: str) -> str:
    value = body.get(name)
    if value is None:
        raise BadInputError(missing)
    if not isinstance(value, str):
        raise BadInputError(f"{name} must be a string")
    return value


def _flag(body: dict[str, Any]) -> bool | None:
    value = body.get(LINKING_FLAG)
    if value is not None and not isinstance(value, bool):
        raise BadInputError(f"{LINKING_FLAG} must be a boolean")
    return value


def _contact_field(body: dict[str, Any], recipe: PasswordlessRecipe) -> tuple[str, str]:
    """Which of ``email``/``phoneNumber`` the body has (exactly one, as configured)."""
    has_email, has_phone = body.get("email") is not None, body.get("phoneNumber") is not None
    if has_email == has_phone:
        raise BadInputError("Please provide exactly one of email or phoneNumber")
    if has_phone and not recipe.config.uses_phone:
        raise BadInputError(
            'Please provide an email since you have set the contactMethod to "EMAIL"'
        )
    if has_email and not recipe.config.uses_email:
        raise BadInputError(
            'Please provide a phoneNumber since you have set the contactMethod to "PHONE"'
        )
    name = "email" if has_email else "phoneNumber"
    return name, _string(body, name, "")


async def _checked_contact(recipe: PasswordlessRecipe, field: str, value: str) -> Contact | str:
    """The contact, normalised, or the validation message (a GENERAL_ERROR)."""
    config = recipe.config
    if field == "email":
        email = normalise_email(value)
        check = config.validate_email_address
        error = await maybe_await(check(email, PUBLIC)) if check else default_email_error(email)
        return Contact(email=email) if error is None else str(error)
    phone = normalise_phone_number(value)
    if phone is None:
        return PHONE_INVALID
    if config.validate_phone_number is not None:
        error = await maybe_await(config.validate_phone_number(phone, PUBLIC))
        if error is not None:
            return str(error)
    return Contact(phone_number=phone)


def _code_or_link(body: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """``(device_id, user_input_code, link_code)`` of a consume body: a code or a link."""
    if "deviceId" in body or "userInputCode" in body:
        if "linkCode" in body:
            raise BadInputError(ONE_OF_CODE_OR_LINK)
        both = "Please provide both deviceId and userInputCode"
        if "deviceId" not in body or "userInputCode" not in body:
            raise BadInputError(both)
        return _string(body, "deviceId", both), _string(body, "userInputCode", both), None
    if "linkCode" in body:
        return None, None, _string(body, "linkCode", ONE_OF_CODE_OR_LINK)
    raise BadInputError(ONE_OF_CODE_OR_LINK)


class _Handlers:
    """The route handlers: read the request, call the (overridable) API implementation."""

    def __init__(self, recipe: PasswordlessRecipe) -> None:
        self.recipe = recipe
        self.apis = recipe.api_implementation

    def _options(self, request: BaseRequest) -> APIOptions:
        recipe = self.recipe
        return APIOptions(request, recipe.config, recipe.recipe_implementation, recipe, recipe.app)

    @staticmethod
    def _answer(request: BaseRequest, body: dict[str, Any]) -> HttpResponse:
        return json_response(200, body, request.state.changes)

    async def create_code(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        body = await _object(request)
        field, value = _contact_field(body, self.recipe)
        flag = _flag(body)
        contact = await _checked_contact(self.recipe, field, value)
        if isinstance(contact, str):
            return self._answer(request, {"status": "GENERAL_ERROR", "message": contact})
        reply = await self.apis.create_code_post(
            contact, flag, PUBLIC, self._options(request), context
        )
        return self._answer(request, reply)

    async def resend_code(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        body = await _object(request)
        device_id = _string(body, "deviceId", "Please provide a deviceId")
        pre_auth = _string(body, "preAuthSessionId", "Please provide a preAuthSessionId")
        reply = await self.apis.resend_code_post(
            device_id, pre_auth, PUBLIC, self._options(request), context
        )
        return self._answer(request, reply)

    async def consume_code(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        body = await _object(request)
        pre_auth = _string(body, "preAuthSessionId", "Please provide preAuthSessionId")
        device_id, user_input_code, link_code = _code_or_link(body)
        reply = await self.apis.consume_code_post(
            pre_auth,
            user_input_code,
            device_id,
            link_code,
            _flag(body),
            PUBLIC,
            self._options(request),
            context,
        )
        return self._answer(request, reply)

    async def email_exists(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        email = request.get_query_param("email")
        if email is None:
            raise BadInputError("Please provide the email as a GET param")
        reply = await self.apis.email_exists_get(
            normalise_email(email), PUBLIC, self._options(request), context
        )
        return self._answer(request, reply)

    async def phone_exists(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        phone = request.get_query_param("phoneNumber")
        if phone is None:
            raise BadInputError("Please provide the phoneNumber as a GET param")
        reply = await self.apis.phone_number_exists_get(
            phone, PUBLIC, self._options(request), context
        )
        return self._answer(request, reply)


def routes(recipe: PasswordlessRecipe) -> list[ApiRoute]:
    """The recipe's routes (the exists checks only for the configured contact methods)."""
    apis = recipe.api_implementation
    handle = _Handlers(recipe)
    found = [
        ApiRoute(
            "POST",
            "/signinup/code",
            RECIPE_ID,
            handle.create_code,
            lambda: apis.disable_create_code_post,
        ),
        ApiRoute(
            "POST",
            "/signinup/code/resend",
            RECIPE_ID,
            handle.resend_code,
            lambda: apis.disable_resend_code_post,
        ),
        ApiRoute(
            "POST",
            "/signinup/code/consume",
            RECIPE_ID,
            handle.consume_code,
            lambda: apis.disable_consume_code_post,
        ),
    ]
    if recipe.config.uses_email:
        found += [
            ApiRoute(
                "GET", path, RECIPE_ID, handle.email_exists, lambda: apis.disable_email_exists_get
            )
            for path in ("/passwordless/email/exists", "/signup/email/exists")
        ]
    if recipe.config.uses_phone:
        found += [
            ApiRoute(
                "GET",
                path,
                RECIPE_ID,
                handle.phone_exists,
                lambda: apis.disable_phone_number_exists_get,
            )
            for path in ("/passwordless/phonenumber/exists", "/signup/phonenumber/exists")
        ]
    return found
