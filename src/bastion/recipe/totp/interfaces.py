"""The TOTP recipe's override surfaces and their default behaviour.

``RecipeInterface`` is the data layer (devices, codes); ``APIInterface`` the HTTP layer. Both
return the JSON body of a 200 answer, ``{"status": ...}`` as the protocol has it (spec 7.5).
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

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
from bastion.storage.base import TOTPDeviceRecord

if TYPE_CHECKING:
    from bastion.http.types import BaseRequest
    from bastion.recipe.totp.recipe import TOTPRecipe
    from bastion.sessions.container import SessionContainer

__all__ = ["APIInterface", "APIOptions", "RecipeInterface", "device_aad", "folded"]

logger = logging.getLogger("bastion")
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
        logger.info("totp: device created", extra={"user_id": user_id})
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
            logger.info("totp: device removed", extra={"user_id": user_id})
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
        body = await self._check_code(user_id, [device], totp, mark_verified=True)
        if body["status"] == "OK":
            logger.info("totp: device verified", extra={"user_id": user_id})
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
        return await self._check_code(user_id, verified, totp, mark_verified=False)

    async def _check_code(
        self, user_id: str, devices: list[TOTPDeviceRecord], code: str, *, mark_verified: bool
    ) -> dict[str, Any]:
        """Count the attempt first, then check the code; a success is recorded atomically."""
        recipe = self._recipe
        policy = recipe.config.attempt_policy
        now = recipe.app.clock.now_ms()
        decision = await self._store.begin_factor_attempt(
            user_id, now_ms=now, policy=policy, honour_hard_lock=True
        )
        if not decision.allowed:
            logger.warning(
                "totp: code refused, %s",
                "hard lock" if decision.hard_locked else "cooling down",
                extra={"user_id": user_id},
            )
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
                    logger.info("totp: code accepted", extra={"user_id": user_id})
                    return {"status": "OK"}
        logger.info("totp: wrong code", extra={"user_id": user_id, "failures": decision.failures})
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
        from bastion.recipe.multifactorauth.claim import MultiFactorAuthClaim

        user_id = session.get_user_id()
        devices = await options.recipe.app.store.list_totp_devices(user_id)
        only_unverified = any(
            d.name == device_name and not d.verified for d in devices
        ) and not any(d.verified and folded(d.name) == folded(device_name) for d in devices)
        if any(d.verified for d in devices) and not only_unverified:
            # Removing a working factor needs a session that passed MFA (spec 7.5).
            await session.assert_claims(
                [MultiFactorAuthClaim.validators.has_completed_mfa_requirements_for_auth()],
                user_context,
            )
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
