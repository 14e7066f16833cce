"""Multi-factor auth: the ``st-mfa`` claim, required secondary factors, recovery codes.

Requiring TOTP of every user takes one line::

    multifactorauth.init(first_factors=["emailpassword"], required_secondary_factors=["totp"])

(with ``totp.init()`` in the recipe list too). Functions for app code are in
:mod:`bastion.recipe.multifactorauth.asyncio` and :mod:`…syncio`.
"""

from bastion.recipe.multifactorauth.claim import MultiFactorAuthClaim, MultiFactorAuthClaimClass
from bastion.recipe.multifactorauth.interfaces import (
    APIInterface,
    APIOptions,
    OverrideConfig,
    RecipeInterface,
)
from bastion.recipe.multifactorauth.recipe import mfa_init as init
from bastion.recipe.multifactorauth.types import FactorIds, MFAClaimValue, RecoveryCodesConfig

InputOverrideConfig = OverrideConfig

__all__ = [
    "APIInterface",
    "APIOptions",
    "FactorIds",
    "InputOverrideConfig",
    "MFAClaimValue",
    "MultiFactorAuthClaim",
    "MultiFactorAuthClaimClass",
    "OverrideConfig",
    "RecipeInterface",
    "RecoveryCodesConfig",
    "init",
]
