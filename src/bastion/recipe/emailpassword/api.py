"""The default :class:`APIInterface`: the endpoints' business logic (spec section 7.2).

The route handlers in :mod:`~bastion.recipe.emailpassword.recipe` have already read and
validated the form fields when these run.
"""

from __future__ import annotations

from typing import Any

from bastion.audit import EventType, Outcome
from bastion.email import deliver, render
from bastion.recipe.emailpassword.config import RESET_EMAIL_LIMIT
from bastion.recipe.emailpassword.forms import EMAIL, PASSWORD, FormField, field_error, value_of
from bastion.recipe.emailpassword.interfaces import (
    APIInterface,
    APIOptions,
    CreateResetPasswordOkResult,
    EmailAlreadyExistsError,
    ResetPasswordInvalidTokenError,
    WrongCredentialsError,
)
from bastion.sessions.request_flow import create_session_in_request
from bastion.users.emails import email_key
from bastion.users.tokens import describe_lifetime

__all__ = ["APIImplementation", "EMAIL_EXISTS_MESSAGE"]

EMAIL_EXISTS_MESSAGE = "This email already exists. Please sign in instead."
FACTOR = "emailpassword"


class APIImplementation(APIInterface):
    """What the endpoints do by default."""

    async def sign_up_post(
        self,
        form_fields: list[FormField],
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        result = await api_options.recipe_implementation.sign_up(
            value_of(form_fields, EMAIL), value_of(form_fields, PASSWORD), tenant_id, user_context
        )
        audit = api_options.app.audit
        if isinstance(result, EmailAlreadyExistsError):
            await audit.emit(
                EventType.SIGN_UP,
                Outcome.FAILURE,
                request=api_options.request,
                account=email_key(value_of(form_fields, EMAIL)),
                factor=FACTOR,
                reason="email_exists",
            )
            return field_error([{"id": EMAIL, "error": EMAIL_EXISTS_MESSAGE}])
        session = await create_session_in_request(
            api_options.request, result.user.id, user_context=user_context, tenant_id=tenant_id
        )
        await audit.emit(
            EventType.SIGN_UP,
            Outcome.SUCCESS,
            request=api_options.request,
            user_id=result.user.id,
            factor=FACTOR,
        )
        await api_options.recipe.after_first_factor(session, user_context)
        return {"status": "OK", "user": result.user.to_json()}

    async def sign_in_post(
        self,
        form_fields: list[FormField],
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        email = value_of(form_fields, EMAIL)
        # Counted before any hashing; raises 429 when throttled or locked.
        attempt = await api_options.recipe.begin_sign_in(api_options.request, email)
        result = await api_options.recipe_implementation.sign_in(
            email, value_of(form_fields, PASSWORD), tenant_id, user_context
        )
        if isinstance(result, WrongCredentialsError):
            await api_options.recipe.sign_in_event(
                api_options.request, Outcome.FAILURE, attempt.account_key, "wrong_credentials"
            )
            return {"status": "WRONG_CREDENTIALS_ERROR"}
        await attempt.succeeded()
        session = await create_session_in_request(
            api_options.request, result.user.id, user_context=user_context, tenant_id=tenant_id
        )
        await api_options.app.audit.emit(
            EventType.SIGN_IN,
            Outcome.SUCCESS,
            request=api_options.request,
            user_id=result.user.id,
            factor=FACTOR,
        )
        await api_options.recipe.after_first_factor(session, user_context)
        return {"status": "OK", "user": result.user.to_json()}

    async def email_exists_get(
        self, email: str, tenant_id: str, api_options: APIOptions, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        exists = await api_options.app.store.get_password_credential(
            email_key(email), tenant_id=tenant_id
        )
        return {"status": "OK", "exists": exists is not None}

    async def generate_password_reset_token_post(
        self,
        form_fields: list[FormField],
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        key = email_key(value_of(form_fields, EMAIL))
        # Counted for known and unknown emails alike; over the limit nothing is sent, but the
        # answer stays OK so that it reveals nothing.
        verdict = await api_options.recipe.limiter.hit(RESET_EMAIL_LIMIT, key)
        credential = await api_options.app.store.get_password_credential(key, tenant_id=tenant_id)
        if credential is None or not verdict.allowed:
            await api_options.app.audit.emit(
                EventType.PASSWORD_RESET_REQUESTED,
                Outcome.FAILURE if credential is None else Outcome.THROTTLED,
                request=api_options.request,
                user_id=credential.user_id if credential is not None else None,
                account=key,
                reason="unknown_email" if credential is None else None,
            )
            return {"status": "OK"}
        created = await api_options.recipe_implementation.create_reset_password_token(
            credential.recipe_user_id, tenant_id, user_context
        )
        if not isinstance(created, CreateResetPasswordOkResult):
            return {"status": "OK"}
        app_name = api_options.app.app_info.app_name
        message = render(
            "password-reset",
            # The address on file, never the typed one: a look-alike that folds to the same
            # key must not receive the owner's link.
            to=credential.email,
            subject=f"Reset your {app_name} password",
            app_name=app_name,
            link=api_options.recipe.reset_password_link(created.token, tenant_id),
            valid_for=describe_lifetime(api_options.config.reset_token_lifetime_s),
        )
        await deliver(api_options.config.email_delivery, message)
        await api_options.app.audit.emit(
            EventType.PASSWORD_RESET_REQUESTED,
            Outcome.SUCCESS,
            request=api_options.request,
            user_id=credential.user_id,
        )
        return {"status": "OK"}

    async def password_reset_post(
        self,
        form_fields: list[FormField],
        token: str,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        result = await api_options.recipe_implementation.reset_password_using_token(
            token, value_of(form_fields, PASSWORD), tenant_id, user_context
        )
        if isinstance(result, ResetPasswordInvalidTokenError):
            return {"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"}
        return {"status": "OK"}
