"""The default :class:`RecipeInterface`: codes and devices in the app's store."""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from bastion.email import EmailMessage, render
from bastion.recipe.passwordless import codes
from bastion.recipe.passwordless.contact import Contact
from bastion.recipe.passwordless.interfaces import (
    CodeBinding,
    CodeInfo,
    ConsumeCodeOkResult,
    ContactTakenError,
    CreateCodeOkResult,
    DeviceInfo,
    ExpiredUserInputCodeError,
    IncorrectUserInputCodeError,
    LoginMessage,
    RecipeInterface,
    RestartFlowError,
)
from bastion.recipe.passwordless.sms import SmsMessage
from bastion.storage.base import PasswordlessDeviceRecord
from bastion.users.emails import email_key
from bastion.users.model import User
from bastion.users.tokens import describe_lifetime

if TYPE_CHECKING:
    from bastion.recipe.passwordless.recipe import PasswordlessRecipe

__all__ = ["RecipeImplementation"]

DEVICE_GRACE_MS = 3_600_000
"""A device whose code expired this long ago is purged: a resend works within this time."""


def _info(device: PasswordlessDeviceRecord) -> DeviceInfo:
    return DeviceInfo(
        pre_auth_session_id=device.pre_auth_session_id,
        failed_code_input_attempt_count=device.failed_attempts,
        email=device.email,
        phone_number=device.phone_number,
        purpose=device.purpose,
        user_id=device.user_id,
        session_handle=device.session_handle,
        codes=[
            CodeInfo(
                code_id=device.code_id,
                time_created=device.code_created_at_ms,
                code_life_time=device.expires_at_ms - device.code_created_at_ms,
            )
        ],
    )


class RecipeImplementation(RecipeInterface):
    """Codes are made here and only their hashes handed to storage."""

    def __init__(self, recipe: PasswordlessRecipe) -> None:
        self.recipe = recipe
        self.store = recipe.app.store
        self.clock = recipe.app.clock

    def _lifetime_ms(self) -> int:
        return self.recipe.config.code_lifetime_s * 1000

    async def _hashes(
        self, device_id: str, pre_auth_session_id: str, session_handle: str | None
    ) -> tuple[str, str, str, str]:
        """A new user input code and link code, and their hashes."""
        key = await self.recipe.code_key()
        user_input_code, link_code = codes.new_user_input_code(), codes.new_link_code()
        code_hash = codes.user_input_code_hash(
            key,
            device_id=device_id,
            pre_auth_session_id=pre_auth_session_id,
            session_handle=session_handle,
            code=user_input_code,
        )
        link_hash = codes.link_code_hash(
            key,
            pre_auth_session_id=pre_auth_session_id,
            session_handle=session_handle,
            link_code=link_code,
        )
        return user_input_code, link_code, code_hash, link_hash

    async def create_code(
        self,
        contact: Contact,
        tenant_id: str,
        binding: CodeBinding | None,
        user_context: dict[str, Any],
    ) -> CreateCodeOkResult:
        device_id, pre_auth = codes.new_device()
        handle = binding.session_handle if binding is not None else None
        user_input_code, link_code, code_hash, link_hash = await self._hashes(
            device_id, pre_auth, handle
        )
        now = self.clock.now_ms()
        code_id = str(uuid.uuid4())
        device = PasswordlessDeviceRecord(
            pre_auth_session_id=pre_auth,
            tenant_id=tenant_id,
            email=contact.email,
            email_key=email_key(contact.email) if contact.email is not None else None,
            phone_number=contact.phone_number,
            purpose=binding.purpose if binding is not None else "signinup",
            user_id=binding.user_id if binding is not None else None,
            session_handle=handle,
            code_id=code_id,
            code_hash=code_hash,
            link_code_hash=link_hash,
            failed_attempts=0,
            created_at_ms=now,
            code_created_at_ms=now,
            expires_at_ms=now + self._lifetime_ms(),
        )
        await self.store.add_passwordless_device(
            device, purge_expired_before_ms=now - DEVICE_GRACE_MS
        )
        return CreateCodeOkResult(
            pre_auth, code_id, device_id, user_input_code, link_code, self._lifetime_ms(), now
        )

    async def create_new_code_for_device(
        self, device_id: str, tenant_id: str, user_context: dict[str, Any]
    ) -> CreateCodeOkResult | RestartFlowError:
        pre_auth = codes.pre_auth_session_id_of(device_id)
        if pre_auth is None:
            return RestartFlowError()
        device = await self.store.get_passwordless_device(pre_auth)
        if device is None or device.tenant_id != tenant_id:
            return RestartFlowError()
        user_input_code, link_code, code_hash, link_hash = await self._hashes(
            device_id, pre_auth, device.session_handle
        )
        now = self.clock.now_ms()
        code_id = str(uuid.uuid4())
        replaced = await self.store.replace_passwordless_code(
            pre_auth,
            code_id=code_id,
            code_hash=code_hash,
            link_code_hash=link_hash,
            now_ms=now,
            expires_at_ms=now + self._lifetime_ms(),
        )
        if replaced is None:
            return RestartFlowError()
        return CreateCodeOkResult(
            pre_auth, code_id, device_id, user_input_code, link_code, self._lifetime_ms(), now
        )

    async def consume_code(
        self,
        pre_auth_session_id: str,
        user_input_code: str | None,
        device_id: str | None,
        link_code: str | None,
        tenant_id: str,
        session_handle: str | None,
        user_context: dict[str, Any],
    ) -> (
        ConsumeCodeOkResult
        | IncorrectUserInputCodeError
        | ExpiredUserInputCodeError
        | RestartFlowError
        | ContactTakenError
    ):
        key = await self.recipe.code_key()
        code_hash: str | None = None
        link_hash: str | None = None
        if user_input_code is not None:
            # Without the right device id nothing is counted: a preAuthSessionId read from a
            # magic link cannot be used to burn someone's attempts.
            if device_id is None or not codes.device_matches(device_id, pre_auth_session_id):
                return RestartFlowError()
            code_hash = codes.user_input_code_hash(
                key,
                device_id=device_id,
                pre_auth_session_id=pre_auth_session_id,
                session_handle=session_handle,
                code=codes.normalise_user_input_code(user_input_code),
            )
        elif link_code is not None:
            link_hash = codes.link_code_hash(
                key,
                pre_auth_session_id=pre_auth_session_id,
                session_handle=session_handle,
                link_code=link_code,
            )
        else:
            return RestartFlowError()
        maximum = self.recipe.config.max_code_input_attempts
        outcome = await self.store.consume_passwordless_code(
            pre_auth_session_id,
            code_hash=code_hash,
            link_code_hash=link_hash,
            session_handle=session_handle,
            max_attempts=maximum,
            now_ms=self.clock.now_ms(),
            new_user_id=str(uuid.uuid4()),
        )
        if outcome.status == "INCORRECT_CODE":
            return IncorrectUserInputCodeError(outcome.failed_attempts, maximum)
        if outcome.status == "EXPIRED_CODE":
            return ExpiredUserInputCodeError(outcome.failed_attempts, maximum)
        if outcome.status == "CONTACT_TAKEN":
            return ContactTakenError()
        device = outcome.device
        record = await self.store.get_user(outcome.user_id) if outcome.user_id else None
        if outcome.status != "OK" or device is None or record is None:
            return RestartFlowError()
        return ConsumeCodeOkResult(
            user=User.from_record(record),
            created_new_recipe_user=outcome.created_login_method,
            purpose=device.purpose,
            contact=Contact(device.email, device.phone_number),
        )

    async def list_codes_by_email(
        self, email: str, tenant_id: str, user_context: dict[str, Any]
    ) -> list[DeviceInfo]:
        found = await self.store.list_passwordless_devices(
            tenant_id=tenant_id, email_key=email_key(email)
        )
        return [_info(d) for d in found]

    async def list_codes_by_phone_number(
        self, phone_number: str, tenant_id: str, user_context: dict[str, Any]
    ) -> list[DeviceInfo]:
        found = await self.store.list_passwordless_devices(
            tenant_id=tenant_id, phone_number=phone_number
        )
        return [_info(d) for d in found]

    async def list_codes_by_pre_auth_session_id(
        self, pre_auth_session_id: str, tenant_id: str, user_context: dict[str, Any]
    ) -> DeviceInfo | None:
        device = await self.store.get_passwordless_device(pre_auth_session_id)
        if device is None or device.tenant_id != tenant_id:
            return None
        return _info(device)

    async def revoke_all_codes(
        self, contact: Contact, tenant_id: str, user_context: dict[str, Any]
    ) -> None:
        if contact.email is not None:
            await self.store.delete_passwordless_devices(
                tenant_id=tenant_id, email_key=email_key(contact.email)
            )
        else:
            await self.store.delete_passwordless_devices(
                tenant_id=tenant_id, phone_number=contact.phone_number
            )

    async def revoke_code(self, code_id: str, tenant_id: str, user_context: dict[str, Any]) -> None:
        await self.store.delete_passwordless_devices(tenant_id=tenant_id, code_id=code_id)

    async def build_login_email(
        self, message: LoginMessage, user_context: dict[str, Any]
    ) -> EmailMessage:
        app_name = self.recipe.app.app_info.app_name
        values = {
            "app_name": app_name,
            "action": _action(message, app_name),
            "valid_for": describe_lifetime(message.code_life_time // 1000),
        }
        if message.user_input_code is not None:
            values["code"] = message.user_input_code
        if message.url_with_link_code is not None:
            values["link"] = message.url_with_link_code
        template = {
            (True, False): "passwordless-code",
            (False, True): "passwordless-link",
            (True, True): "passwordless-code-and-link",
        }[("code" in values, "link" in values)]
        subject = (
            f"Your {app_name} sign-in code"
            if message.user_input_code is not None
            else f"Your {app_name} sign-in link"
        )
        rendered = render(template, to=message.contact.address, subject=subject, **values)
        return dataclasses.replace(rendered, kind="passwordless-login")

    async def build_login_sms(
        self, message: LoginMessage, user_context: dict[str, Any]
    ) -> SmsMessage:
        app_name = self.recipe.app.app_info.app_name
        valid_for = describe_lifetime(message.code_life_time // 1000)
        parts = []
        if message.user_input_code is not None:
            parts.append(f"Your {app_name} code is {message.user_input_code}.")
        if message.url_with_link_code is not None:
            parts.append(f"Sign in to {app_name}: {message.url_with_link_code}")
        parts.append(f"Valid for {valid_for}. Never share it.")
        return SmsMessage(
            to=message.contact.address, text=" ".join(parts), kind="passwordless-login"
        )


def _action(message: LoginMessage, app_name: str) -> str:
    """What the code is for, in the words of the email."""
    if message.purpose == "factor":
        return f"confirm that it is you signing in to {app_name}"
    if message.purpose == "setup":
        return f"add this address to your {app_name} account"
    return f"sign in to {app_name}"
