"""The TOTP recipe's override surfaces and their default behaviour.

``RecipeInterface`` is the data layer (devices, codes); ``APIInterface`` the HTTP layer. Both
return the JSON body of a 200 answer, ``{"status": ...}`` as the protocol has it (spec 7.5).
"""

from __future__ import annotations

import dataclasses
import unicodedata
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from bastion.audit import EventType, Outcome
from bastion.core.otp import (
    ALGORITHMS,
    Algorithm,
    base32_secret,
    match_step,
    new_secret,
    normalise_code,
    otpauth_uri,
)
from bastion.errors import ConfigError
from bastion.sessions.sensitive import verify_sensitive_operation
from bastion.storage.base import TOTPDeviceRecord

if TYPE_CHECKING:
    from bastion.http.types import BaseRequest
    from bastion.recipe.totp.recipe import TOTPRecipe
    from bastion.sessions.container import SessionContainer

__all__ = ["APIInterface", "APIOptions", "RecipeInterface", "device_aad", "folded"]

MAX_CODE_LENGTH = 8


def device_aad(device: TOTPDeviceRecord) -> bytes:
    """The associated data that binds a sealed secret to its device row."""
    return f"totp:{device.user_id}:{device.device_id}".encode()


def folded(name: str) -> str:
    """Device names compare NFKC-normalised and case-folded (spec 7.5, remove)."""
    return unicodedata.normalize("NFKC", name).casefold()


class RecipeInterface:
    """TOTP devices and code checks (``override.functions`` receives an instance)."""

    def __init__(self, recipe: TOTPRecipe) -> None:
        self._recipe = recipe
        self._store = recipe.app.store

    async def get_user_identifier_info_for_user_id(
        self, user_id: str, user_context: dict[str, Any]
    ) -> str | None:
        """The account name in the QR code's label: the user's first known email, if any."""
        for recipe in self._recipe.app.recipes.values():
            if recipe is self._recipe or not hasattr(recipe, "get_emails_for_factors"):
                continue
            for emails in (await recipe.get_emails_for_factors(user_id, user_context)).values():
                if emails:
                    return str(emails[0])
        return None

    async def create_device(
        self,
        user_id: str,
        device_name: str | None,
        skew: int | None,
        period: int | None,
        user_context: dict[str, Any],
        *,
        algorithm: Algorithm | None = None,
        digits: int | None = None,
    ) -> dict[str, Any]:
        """A new unverified device (or a new secret for an unverified one of that name).

        Returns ``{"status":"OK","deviceName","secret","qrCodeString"}`` or
        ``{"status":"DEVICE_ALREADY_EXISTS_ERROR"}`` when a verified device has the name.
        """
        config = self._recipe.config
        algorithm = algorithm or config.default_algorithm
        digits = digits or config.default_digits
        skew = config.default_skew if skew is None else skew
        period = config.default_period if period is None else period
        if algorithm not in ALGORITHMS or digits not in (6, 8) or skew < 0 or period <= 0:
            raise ConfigError(
                "a TOTP device needs SHA1/256/512, 6 or 8 digits, skew >= 0, period > 0"
            )
        existing = await self._store.list_totp_devices(user_id)
        if device_name is None:
            names = {d.name for d in existing}
            n = sum(1 for d in existing if d.verified)
            while f"TOTP Device {n}" in names:
                n += 1
            device_name = f"TOTP Device {n}"
        key = new_secret()
        device = TOTPDeviceRecord(
            device_id=str(uuid.uuid4()),
            user_id=user_id,
            name=device_name,
            sealed_secret="",
            algorithm=algorithm,
            digits=digits,
            period=period,
            skew=skew,
            verified=False,
            created_at_ms=self._recipe.app.clock.now_ms(),
            last_used_step=None,
        )
        sealed = self._recipe.secret_box.seal(key, device_aad(device))
        device = dataclasses.replace(device, sealed_secret=sealed)
        if not await self._store.put_totp_device(device):
            return {"status": "DEVICE_ALREADY_EXISTS_ERROR"}
        secret = base32_secret(key)
        account = await self.get_user_identifier_info_for_user_id(user_id, user_context)
        uri = otpauth_uri(
            secret,
            issuer=self._recipe.issuer,
            account=account,
            digits=digits,
            period=period,
            algorithm=algorithm,
        )
        await self._event(EventType.DEVICE_CREATED, Outcome.SUCCESS, user_id, user_context)
        return {"status": "OK", "deviceName": device_name, "secret": secret, "qrCodeString": uri}

    async def list_devices(self, user_id: str, user_context: dict[str, Any]) -> dict[str, Any]:
        devices = await self._store.list_totp_devices(user_id)
        return {
            "status": "OK",
            "devices": [
                {
                    "name": d.name,
                    "period": d.period,
                    "skew": d.skew,
                    "verified": d.verified,
                    "algorithm": d.algorithm,
                    "digits": d.digits,
                }
                for d in devices
            ],
        }

    async def remove_device(
        self, user_id: str, device_name: str, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        existed = await self._store.remove_totp_device(user_id, device_name)
        if existed:
            await self._event(EventType.DEVICE_REMOVED, Outcome.SUCCESS, user_id, user_context)
        return {"status": "OK", "didDeviceExist": existed}

    async def verify_device(
        self,
        tenant_id: str,
        user_id: str,
        device_name: str,
        totp: str,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """Verify a new device with a code from it; a verified device answers OK at once."""
        devices = await self._store.list_totp_devices(user_id)
        device = next((d for d in devices if d.name == device_name), None)
        if device is None:
            return {"status": "UNKNOWN_DEVICE_ERROR"}
        if device.verified:
            return {"status": "OK", "wasAlreadyVerified": True}
        body = await self._check_code(user_id, [device], totp, user_context, mark_verified=True)
        if body["status"] == "OK":
            await self._event(EventType.DEVICE_ADDED, Outcome.SUCCESS, user_id, user_context)
            return {"status": "OK", "wasAlreadyVerified": False}
        return body

    async def verify_totp(
        self, tenant_id: str, user_id: str, totp: str, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        """Check a code against the user's verified devices."""
        devices = await self._store.list_totp_devices(user_id)
        if not devices:
            return {"status": "UNKNOWN_USER_ID_ERROR"}
        verified = [d for d in devices if d.verified]
        body = await self._check_code(user_id, verified, totp, user_context, mark_verified=False)
        if body["status"] == "OK":
            await self._event(EventType.FACTOR, Outcome.SUCCESS, user_id, user_context)
        return body

    async def _event(
        self,
        event: EventType,
        outcome: Outcome,
        user_id: str,
        user_context: dict[str, Any],
        reason: str | None = None,
    ) -> None:
        await self._recipe.app.audit.emit(
            event, outcome, user_context=user_context, user_id=user_id, factor="totp", reason=reason
        )

    async def _check_code(
        self,
        user_id: str,
        devices: list[TOTPDeviceRecord],
        code: str,
        user_context: dict[str, Any],
        *,
        mark_verified: bool,
    ) -> dict[str, Any]:
        """Count the attempt first, then check the code; a success is recorded atomically."""
        recipe = self._recipe
        policy = recipe.config.attempt_policy
        now = recipe.app.clock.now_ms()
        decision = await self._store.begin_factor_attempt(
            user_id, now_ms=now, policy=policy, honour_hard_lock=True
        )
        if not decision.allowed:
            outcome = Outcome.LOCKED if decision.hard_locked else Outcome.THROTTLED
            await self._event(EventType.FACTOR, outcome, user_id, user_context)
            body: dict[str, Any] = {
                "status": "LIMIT_REACHED_ERROR",
                "retryAfterMs": decision.retry_after_ms,
            }
            if decision.hard_locked:
                body["hardLocked"] = True
            return body
        code = normalise_code(code)
        if len(code) <= MAX_CODE_LENGTH:
            for device in devices:
                key = recipe.secret_box.open(device.sealed_secret, device_aad(device))
                step = match_step(
                    key,
                    code,
                    now,
                    period=device.period,
                    skew=device.skew,
                    digits=device.digits,
                    algorithm=cast("Algorithm", device.algorithm),
                    after_step=device.last_used_step,
                )
                if step is not None and await self._store.accept_totp_step(
                    device.device_id, step, mark_verified=mark_verified
                ):
                    return {"status": "OK"}
        await self._event(EventType.FACTOR, Outcome.FAILURE, user_id, user_context, "wrong_code")
        return {
            "status": "INVALID_TOTP_ERROR",
            "currentNumberOfFailedAttempts": decision.failures,
            "maxNumberOfFailedAttempts": policy.max_attempts,
        }


@dataclass(slots=True)
class APIOptions:
    """What an API implementation receives along with the request."""

    request: BaseRequest
    recipe: TOTPRecipe
    recipe_implementation: RecipeInterface


class APIInterface:
    """The TOTP endpoints (``override.apis`` receives an instance); flags disable them."""

    def __init__(self) -> None:
        self.disable_create_device_post = False
        self.disable_list_devices_get = False
        self.disable_remove_device_post = False
        self.disable_verify_device_post = False
        self.disable_verify_totp_post = False

    async def create_device_post(
        self,
        device_name: str | None,
        options: APIOptions,
        session: SessionContainer,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        guard = options.recipe.mfa().recipe_implementation
        await guard.assert_allowed_to_setup_factor_else_throw_invalid_claim_error(
            session, "totp", user_context
        )
        body = await options.recipe_implementation.create_device(
            session.get_user_id(), device_name, None, None, user_context
        )
        if body["status"] == "OK":
            svg = options.recipe.qr_svg(body["qrCodeString"])
            if svg is not None:
                body["qrCodeSvg"] = svg
        return body

    async def list_devices_get(
        self, options: APIOptions, session: SessionContainer, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        return await options.recipe_implementation.list_devices(session.get_user_id(), user_context)

    async def remove_device_post(
        self,
        device_name: str,
        options: APIOptions,
        session: SessionContainer,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """Remove a device: a sensitive operation, and never the last verified device of a
        user who must have TOTP (``GENERAL_ERROR`` then; nothing changes)."""
        recipe = options.recipe
        await verify_sensitive_operation(recipe.app, session, user_context)
        user_id = session.get_user_id()
        devices = await recipe.app.store.list_totp_devices(user_id)
        removing = next((d for d in devices if d.name == device_name), None)
        others_verified = any(d.verified for d in devices if d is not removing)
        if removing is not None and removing.verified and not others_verified:
            mfa = recipe.mfa()
            if not await mfa.may_remove_factor(user_id, "totp", user_context):
                await recipe.app.audit.emit(
                    EventType.DEVICE_REMOVED,
                    Outcome.REFUSED,
                    user_context=user_context,
                    user_id=user_id,
                    session_handle=session.get_handle(),
                    factor="totp",
                    reason="last_second_factor",
                )
                return mfa.last_factor_refusal()
        return await options.recipe_implementation.remove_device(user_id, device_name, user_context)

    async def verify_device_post(
        self,
        device_name: str,
        totp: str,
        options: APIOptions,
        session: SessionContainer,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        mfa = options.recipe.mfa()
        await (
            mfa.recipe_implementation.assert_allowed_to_setup_factor_else_throw_invalid_claim_error(
                session, "totp", user_context
            )
        )
        body = await options.recipe_implementation.verify_device(
            session.get_tenant_id(), session.get_user_id(), device_name, totp, user_context
        )
        # An already verified device answers OK without a code: that completes nothing.
        if body["status"] == "OK" and not body["wasAlreadyVerified"]:
            await mfa.recipe_implementation.mark_factor_as_complete_in_session(
                session, "totp", user_context
            )
        return body

    async def verify_totp_post(
        self,
        totp: str,
        options: APIOptions,
        session: SessionContainer,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        body = await options.recipe_implementation.verify_totp(
            session.get_tenant_id(), session.get_user_id(), totp, user_context
        )
        if body["status"] == "OK":
            await options.recipe.mfa().recipe_implementation.mark_factor_as_complete_in_session(
                session, "totp", user_context
            )
        return body
