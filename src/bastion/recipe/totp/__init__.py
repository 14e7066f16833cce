"""TOTP (RFC 6238) as a second factor: devices with encrypted secrets, replay-proof codes,
rate limits and a hard lock. Endpoints are described in :mod:`bastion.recipe.totp.recipe`;
functions for app code are in :mod:`bastion.recipe.totp.asyncio` and :mod:`…syncio`."""

from bastion.recipe.totp.config import OverrideConfig, TOTPConfig
from bastion.recipe.totp.interfaces import APIInterface, APIOptions, RecipeInterface
from bastion.recipe.totp.recipe import totp_init as init

InputOverrideConfig = OverrideConfig

__all__ = [
    "APIInterface",
    "APIOptions",
    "InputOverrideConfig",
    "OverrideConfig",
    "RecipeInterface",
    "TOTPConfig",
    "init",
]
