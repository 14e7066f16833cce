"""The default :class:`APIInterface`: the endpoints' business logic (spec 7.3).

The route handlers (:mod:`~bastion.recipe.passwordless.routes`) have already read and validated
the body when these run. Which kind of code a request gets is decided in
:mod:`~bastion.recipe.passwordless.factors`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bastion.audit import EventType, Outcome
from bastion.ratelimit import client_address
from bastion.recipe.passwordless import codes
from bastion.recipe.passwordless.contact import Contact, normalise_phone_number
from bastion.recipe.passwordless.factors import (
    FIRST_FACTOR_REFUSED,
    TAKEN,
    NotAllowed,
    assert_may_set_up,
    first_factor_allowed,
    passwordless_user,
    plan_code,
    required_session,
    session_for_request,
)
from bastion.recipe.passwordless.interfaces import (
    APIInterface,
    APIOptions,
    ConsumeCodeOkResult,
    ContactTakenError,
    DeviceInfo,
    ExpiredUserInputCodeError,
    IncorrectUserInputCodeError,
    RestartFlowError,
)
from bastion.sessions.container import SessionContainer
from bastion.sessions.request_flow import create_session_in_request

__all__ = ["APIImplementation"]

logger = logging.getLogger("bastion")
RESTART = {"status": "RESTART_FLOW_ERROR"}


async def _throttle_send(options: APIOptions, contact: Contact) -> None:
    """Count a code sent to ``contact`` for the client and the account, or raise 429."""
    recipe = options.recipe
    client = client_address(options.request, options.app.trusted_proxies)
    if client is not None:
        verdict = await recipe.limiter.hit(recipe.send_client_limit, client)
        if not verdict.allowed:
            raise verdict.error()
    verdict = await recipe.limiter.hit(recipe.send_account_limit, contact.key)
    if not verdict.allowed:
        if client is not None:
            await recipe.limiter.forgive(recipe.send_client_limit, client)
        raise verdict.error()


def _factor_id(contact: Contact, *, by_link: bool) -> str:
    return f"{'link' if by_link else 'otp'}-{contact.kind}"


@dataclass(frozen=True, slots=True)
class _Attempt:
    """The audit events of one code consumption: a sign-in, or a factor in ``session``."""

    options: APIOptions
    factor_id: str
    session: SessionContainer | None
    contact: Contact
    user_context: dict[str, Any]

    async def event(self, outcome: Outcome, reason: str | None = None) -> None:
        """A refused or failed attempt (the user is known only for a factor)."""
        user_id = self.session.get_user_id() if self.session is not None else None
        await self.options.app.audit.emit(
            EventType.SIGN_IN if user_id is None else EventType.FACTOR,
            outcome,
            user_context=self.user_context,
            user_id=user_id,
            account=self.contact.key,
            factor=self.factor_id,
            reason=reason,
        )

    async def succeeded(self, result: ConsumeCodeOkResult) -> None:
        if self.session is None:
            event = EventType.SIGN_UP if result.created_new_recipe_user else EventType.SIGN_IN
        else:
            event = EventType.DEVICE_ADDED if result.purpose == "setup" else EventType.FACTOR
        await self.options.app.audit.emit(
            event,
            Outcome.SUCCESS,
            user_context=self.user_context,
            user_id=result.user.id,
            factor=self.factor_id,
        )


class APIImplementation(APIInterface):
    """What the endpoints do by default."""

    async def create_code_post(
        self,
        contact: Contact,
        should_try_linking_with_session_user: bool | None,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        flag = should_try_linking_with_session_user
        session = await session_for_request(
            api_options.recipe, api_options.request, flag, user_context
        )
        plan = await plan_code(api_options.recipe, contact, session, flag, tenant_id, user_context)
        if isinstance(plan, NotAllowed):
            return plan.body()
        await _throttle_send(api_options, plan.contact)
        created = await api_options.recipe_implementation.create_code(
            plan.contact, tenant_id, plan.binding, user_context
        )
        await api_options.recipe.send_code(
            created, plan.contact, plan.purpose, tenant_id, user_context
        )
        logger.info("passwordless: %s code sent", plan.purpose)
        return {
            "status": "OK",
            "deviceId": created.device_id,
            "preAuthSessionId": created.pre_auth_session_id,
            "flowType": api_options.config.flow_type,
        }

    async def resend_code_post(
        self,
        device_id: str,
        pre_auth_session_id: str,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        if not codes.device_matches(device_id, pre_auth_session_id):
            return RESTART
        impl = api_options.recipe_implementation
        device = await impl.list_codes_by_pre_auth_session_id(
            pre_auth_session_id, tenant_id, user_context
        )
        if device is None:
            return RESTART
        contact = Contact(device.email, device.phone_number)
        await _throttle_send(api_options, contact)
        created = await impl.create_new_code_for_device(device_id, tenant_id, user_context)
        if isinstance(created, RestartFlowError):
            return RESTART
        await api_options.recipe.send_code(
            created, contact, device.purpose, tenant_id, user_context
        )
        return {"status": "OK"}

    async def _session_for_device(
        self,
        device: DeviceInfo,
        factor_id: str,
        flag: bool | None,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> SessionContainer | dict[str, Any] | None:
        """The session a code must be consumed in (None for a sign-in code), or the answer
        when the request does not fit the code's purpose."""
        recipe = api_options.recipe
        if device.session_handle is None:
            if flag is True:
                return RESTART  # a sign-in code cannot complete a factor
            if not first_factor_allowed(recipe, [factor_id]):
                return NotAllowed(FIRST_FACTOR_REFUSED).body()
            return None
        if flag is False:
            return RESTART
        session = await required_session(recipe, api_options.request, user_context)
        if session.get_handle() != device.session_handle:
            return RESTART  # bound to another session: left untouched, not counted
        if device.purpose == "setup":
            mfa = recipe.mfa()
            if mfa is None:
                return RESTART
            await assert_may_set_up(mfa, session, [factor_id], user_context)
        return session

    async def consume_code_post(
        self,
        pre_auth_session_id: str,
        user_input_code: str | None,
        device_id: str | None,
        link_code: str | None,
        should_try_linking_with_session_user: bool | None,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        recipe, config = api_options.recipe, api_options.config
        by_code = user_input_code is not None
        # A code the flow never sends is not accepted: no guessing at unsent 6-digit codes.
        if not (config.sends_code if by_code else config.sends_link):
            return RESTART
        if by_code and (
            device_id is None or not codes.device_matches(device_id, pre_auth_session_id)
        ):
            return RESTART
        impl = api_options.recipe_implementation
        device = await impl.list_codes_by_pre_auth_session_id(
            pre_auth_session_id, tenant_id, user_context
        )
        if device is None:
            return RESTART
        contact = Contact(device.email, device.phone_number)
        factor_id = _factor_id(contact, by_link=not by_code)
        session = await self._session_for_device(
            device, factor_id, should_try_linking_with_session_user, api_options, user_context
        )
        if isinstance(session, dict):
            return session
        audit = _Attempt(api_options, factor_id, session, contact, user_context)
        if by_code:
            # Counted before the check, per account across all its login attempts.
            verdict = await recipe.limiter.hit(recipe.wrong_code_limit, contact.key)
            if not verdict.allowed:
                await audit.event(Outcome.THROTTLED)
                raise verdict.error()
        result = await impl.consume_code(
            pre_auth_session_id,
            user_input_code,
            device_id,
            link_code,
            tenant_id,
            session.get_handle() if session is not None else None,
            user_context,
        )
        if isinstance(result, IncorrectUserInputCodeError | ExpiredUserInputCodeError):
            await audit.event(Outcome.FAILURE, "wrong_code")
            return {
                "status": result.status,
                "failedCodeInputAttemptCount": result.failed_code_input_attempt_count,
                "maximumCodeInputAttempts": result.maximum_code_input_attempts,
            }
        if isinstance(result, RestartFlowError):
            return RESTART
        if isinstance(result, ContactTakenError):
            return NotAllowed(TAKEN).body()
        if by_code:
            await recipe.limiter.reset(recipe.wrong_code_limit, contact.key)
        await self._complete(result, factor_id, session, tenant_id, api_options, user_context)
        await audit.succeeded(result)
        return {
            "status": "OK",
            "createdNewRecipeUser": result.created_new_recipe_user,
            "user": result.user.to_json(),
        }

    async def _complete(
        self,
        result: ConsumeCodeOkResult,
        factor_id: str,
        session: SessionContainer | None,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> None:
        """A new session for a sign-in; the factor marked complete in the session otherwise."""
        mfa = api_options.recipe.mfa()
        if session is None:
            created = await create_session_in_request(
                api_options.request, result.user.id, user_context=user_context, tenant_id=tenant_id
            )
            if mfa is not None:
                await mfa.mark_first_factor_complete(created, factor_id, user_context)
            return
        if mfa is not None:
            await mfa.recipe_implementation.mark_factor_as_complete_in_session(
                session, factor_id, user_context
            )

    async def email_exists_get(
        self, email: str, tenant_id: str, api_options: APIOptions, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        found = await passwordless_user(api_options.recipe, Contact(email=email), tenant_id)
        return {"status": "OK", "exists": found is not None}

    async def phone_number_exists_get(
        self,
        phone_number: str,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        normalised = normalise_phone_number(phone_number)
        if normalised is None:
            return {"status": "OK", "exists": False}
        found = await passwordless_user(
            api_options.recipe, Contact(phone_number=normalised), tenant_id
        )
        return {"status": "OK", "exists": found is not None}
