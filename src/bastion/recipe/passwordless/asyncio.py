"""Passwordless functions for async code; :mod:`.syncio` has the same ones.

These work on the data only: they send nothing, create no session and mark no MFA factor
(the HTTP API does those), and apply no throttling.
"""

from __future__ import annotations

import uuid
from typing import Any

from bastion.errors import ConfigError
from bastion.recipe.passwordless import codes
from bastion.recipe.passwordless.contact import Contact, contact_on_file, normalise_phone_number
from bastion.recipe.passwordless.interfaces import (
    CodeBinding,
    ConsumeCodeOkResult,
    ContactTakenError,
    CreateCodeOkResult,
    DeviceInfo,
    ExpiredUserInputCodeError,
    IncorrectUserInputCodeError,
    RestartFlowError,
    SignInUpOkResult,
)
from bastion.recipe.passwordless.recipe import RECIPE_ID, PasswordlessRecipe
from bastion.runtime import current_app
from bastion.sessions.container import SessionContainer
from bastion.users.emails import email_key, normalise_email
from bastion.users.model import User

__all__ = [
    "consume_code",
    "create_code",
    "create_magic_link",
    "create_new_code_for_device",
    "list_codes_by_device_id",
    "list_codes_by_email",
    "list_codes_by_phone_number",
    "list_codes_by_pre_auth_session_id",
    "revoke_all_codes",
    "revoke_code",
    "signinup",
]


def _recipe() -> PasswordlessRecipe:
    recipe = current_app().recipes.get(RECIPE_ID)
    if not isinstance(recipe, PasswordlessRecipe):
        raise ConfigError("add passwordless.init() to bastion.init(recipe_list=[...])")
    return recipe


def _ctx(user_context: dict[str, Any] | None) -> dict[str, Any]:
    return {} if user_context is None else user_context


def _contact(email: str | None, phone_number: str | None) -> Contact:
    if (email is None) == (phone_number is None):
        raise ConfigError("give exactly one of email and phone_number")
    if email is not None:
        return Contact(email=normalise_email(email))
    normalised = normalise_phone_number(str(phone_number))
    if normalised is None:
        raise ConfigError("phone_number must be an E.164 number (+ and 7 to 15 digits)")
    return Contact(phone_number=normalised)


async def create_code(
    tenant_id: str,
    email: str | None = None,
    phone_number: str | None = None,
    session: SessionContainer | None = None,
    user_context: dict[str, Any] | None = None,
) -> CreateCodeOkResult:
    """A new login attempt for ``email`` or ``phone_number`` (nothing is sent).

    With ``session``, the code is bound to it: a challenge if its user has that address, else
    a setup that adds the address to the user when consumed (no setup guard is applied here).
    """
    recipe = _recipe()
    contact = _contact(email, phone_number)
    binding: CodeBinding | None = None
    if session is not None:
        user = await recipe.app.store.get_user(session.get_user_id())
        if user is None:
            raise ConfigError("the session's user does not exist")
        on_file = contact_on_file(user, contact)
        if on_file is not None:
            binding = CodeBinding("factor", user.id, session.get_handle())
            contact = on_file
        else:
            binding = CodeBinding("setup", user.id, session.get_handle())
    return await recipe.recipe_implementation.create_code(
        contact, tenant_id, binding, _ctx(user_context)
    )


async def create_new_code_for_device(
    tenant_id: str, device_id: str, user_context: dict[str, Any] | None = None
) -> CreateCodeOkResult | RestartFlowError:
    """A new code for the login attempt; the previous one stops working."""
    return await _recipe().recipe_implementation.create_new_code_for_device(
        device_id, tenant_id, _ctx(user_context)
    )


async def consume_code(
    tenant_id: str,
    pre_auth_session_id: str,
    user_input_code: str | None = None,
    device_id: str | None = None,
    link_code: str | None = None,
    session: SessionContainer | None = None,
    user_context: dict[str, Any] | None = None,
) -> (
    ConsumeCodeOkResult
    | IncorrectUserInputCodeError
    | ExpiredUserInputCodeError
    | RestartFlowError
    | ContactTakenError
):
    """Use up a code: ``device_id`` + ``user_input_code``, or ``link_code``.

    ``session`` must be the session a bound code was created for (None for sign-in codes).
    """
    if (user_input_code is None) == (link_code is None):
        raise ConfigError("give user_input_code (with device_id) or link_code")
    return await _recipe().recipe_implementation.consume_code(
        pre_auth_session_id,
        user_input_code,
        device_id,
        link_code,
        tenant_id,
        session.get_handle() if session is not None else None,
        _ctx(user_context),
    )


async def create_magic_link(
    tenant_id: str,
    email: str | None = None,
    phone_number: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> str:
    """A sign-in link for ``email`` or ``phone_number`` (to send yourself)."""
    created = await create_code(tenant_id, email, phone_number, user_context=user_context)
    return _recipe().magic_link(created.link_code, created.pre_auth_session_id, tenant_id)


async def signinup(
    tenant_id: str,
    email: str | None = None,
    phone_number: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> SignInUpOkResult:
    """The user with a passwordless login for the address, created if needed (no code)."""
    recipe = _recipe()
    contact = _contact(email, phone_number)
    record, created = await recipe.app.store.get_or_create_passwordless_user(
        tenant_id=tenant_id,
        email=contact.email,
        email_key=email_key(contact.email) if contact.email is not None else None,
        phone_number=contact.phone_number,
        new_user_id=str(uuid.uuid4()),
        now_ms=recipe.app.clock.now_ms(),
    )
    return SignInUpOkResult(User.from_record(record), created)


async def list_codes_by_email(
    tenant_id: str, email: str, user_context: dict[str, Any] | None = None
) -> list[DeviceInfo]:
    return await _recipe().recipe_implementation.list_codes_by_email(
        normalise_email(email), tenant_id, _ctx(user_context)
    )


async def list_codes_by_phone_number(
    tenant_id: str, phone_number: str, user_context: dict[str, Any] | None = None
) -> list[DeviceInfo]:
    contact = _contact(None, phone_number)
    return await _recipe().recipe_implementation.list_codes_by_phone_number(
        str(contact.phone_number), tenant_id, _ctx(user_context)
    )


async def list_codes_by_pre_auth_session_id(
    tenant_id: str, pre_auth_session_id: str, user_context: dict[str, Any] | None = None
) -> DeviceInfo | None:
    return await _recipe().recipe_implementation.list_codes_by_pre_auth_session_id(
        pre_auth_session_id, tenant_id, _ctx(user_context)
    )


async def list_codes_by_device_id(
    tenant_id: str, device_id: str, user_context: dict[str, Any] | None = None
) -> DeviceInfo | None:
    pre_auth = codes.pre_auth_session_id_of(device_id)
    if pre_auth is None:
        return None
    return await list_codes_by_pre_auth_session_id(tenant_id, pre_auth, user_context)


async def revoke_all_codes(
    tenant_id: str,
    email: str | None = None,
    phone_number: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> None:
    """Drop every pending login attempt for the address."""
    await _recipe().recipe_implementation.revoke_all_codes(
        _contact(email, phone_number), tenant_id, _ctx(user_context)
    )


async def revoke_code(
    tenant_id: str, code_id: str, user_context: dict[str, Any] | None = None
) -> None:
    """Drop the login attempt whose current code is ``code_id``."""
    await _recipe().recipe_implementation.revoke_code(code_id, tenant_id, _ctx(user_context))
