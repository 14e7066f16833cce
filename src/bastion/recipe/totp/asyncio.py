"""TOTP functions for async code; :mod:`bastion.recipe.totp.syncio` has the same ones."""

from __future__ import annotations

from typing import Any

from bastion.core.attempts import AttemptState
from bastion.core.otp import Algorithm
from bastion.errors import ConfigError
from bastion.recipe.totp.interfaces import device_aad
from bastion.recipe.totp.recipe import TOTPRecipe
from bastion.runtime import current_app

__all__ = [
    "create_device",
    "get_failed_attempts",
    "list_devices",
    "reencrypt_secrets",
    "remove_device",
    "reset_failed_attempts",
    "verify_device",
    "verify_totp",
]


def _recipe() -> TOTPRecipe:
    recipe = current_app().recipes.get("totp")
    if not isinstance(recipe, TOTPRecipe):
        raise ConfigError("add totp.init() to bastion.init(recipe_list=[...])")
    return recipe


def _ctx(user_context: dict[str, Any] | None) -> dict[str, Any]:
    return {} if user_context is None else user_context


async def create_device(
    user_id: str,
    device_name: str | None = None,
    skew: int | None = None,
    period: int | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    algorithm: Algorithm | None = None,
    digits: int | None = None,
) -> dict[str, Any]:
    """Create an unverified device; ``algorithm``/``digits`` override the config per device."""
    return await _recipe().recipe_implementation.create_device(
        user_id, device_name, skew, period, _ctx(user_context), algorithm=algorithm, digits=digits
    )


async def list_devices(user_id: str, user_context: dict[str, Any] | None = None) -> dict[str, Any]:
    return await _recipe().recipe_implementation.list_devices(user_id, _ctx(user_context))


async def remove_device(
    user_id: str, device_name: str, user_context: dict[str, Any] | None = None
) -> dict[str, Any]:
    return await _recipe().recipe_implementation.remove_device(
        user_id, device_name, _ctx(user_context)
    )


async def verify_device(
    user_id: str,
    device_name: str,
    totp: str,
    tenant_id: str = "public",
    user_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify a device with a code (counts against the user's failed attempts)."""
    return await _recipe().recipe_implementation.verify_device(
        tenant_id, user_id, device_name, totp, _ctx(user_context)
    )


async def verify_totp(
    user_id: str,
    totp: str,
    tenant_id: str = "public",
    user_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check a code against the user's verified devices (no session is marked)."""
    return await _recipe().recipe_implementation.verify_totp(
        tenant_id, user_id, totp, _ctx(user_context)
    )


async def get_failed_attempts(user_id: str) -> AttemptState:
    """The user's failed-attempt counters (``consecutive`` reaching the cap is the hard lock)."""
    return await current_app().store.get_factor_attempts(user_id)


async def reset_failed_attempts(user_id: str) -> None:
    """Admin reset: clears the cooldown and the hard lock of ``user_id``."""
    await current_app().store.reset_factor_attempts(user_id)


async def reencrypt_secrets() -> int:
    """Re-seal every TOTP secret with the first of ``encryption_keys``; returns how many changed.

    Run it after putting a new key first; once it has run, older keys can be removed.
    """
    box = _recipe().secret_box
    return await current_app().store.reseal_totp_secrets(
        lambda device: box.reseal(device.sealed_secret, device_aad(device))
    )
