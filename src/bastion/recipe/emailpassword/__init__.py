"""Email and password as the first factor (spec section 7.2), FDI-compatible and hardened.

``emailpassword.init(...)`` goes in ``bastion.init(recipe_list=[...])``; the frontend SDKs'
sign-up, sign-in and password-reset flows then work unchanged against ``/auth``.
"""

from __future__ import annotations

from bastion.core.passwords import PasswordHashing
from bastion.email.message import EmailBackend
from bastion.recipe.emailpassword.config import (
    EmailPasswordConfig,
    InputFormField,
    InputOverrideConfig,
    InputSignUpFeature,
    SignInThrottling,
)
from bastion.recipe.emailpassword.forms import FormField
from bastion.recipe.emailpassword.interfaces import APIInterface, APIOptions, RecipeInterface
from bastion.recipe.emailpassword.recipe import EmailPasswordRecipe, EmailPasswordRecipeInit
from bastion.recipe.emailpassword.screening import PasswordPolicy

__all__ = [
    "APIInterface",
    "APIOptions",
    "EmailPasswordOverrideConfig",
    "EmailPasswordRecipe",
    "FormField",
    "InputFormField",
    "InputOverrideConfig",
    "InputSignUpFeature",
    "PasswordHashing",
    "PasswordPolicy",
    "RecipeInterface",
    "SignInThrottling",
    "init",
]

EmailPasswordOverrideConfig = InputOverrideConfig


def init(
    sign_up_feature: InputSignUpFeature | None = None,
    override: InputOverrideConfig | None = None,
    email_delivery: EmailBackend | None = None,
    *,
    password_hashing: PasswordHashing | None = None,
    sign_in_throttling: SignInThrottling | None = None,
    reset_token_lifetime_s: int = 3600,
    revoke_sessions_on_password_change: bool = True,
    password_policy: PasswordPolicy | None = None,
) -> EmailPasswordRecipeInit:
    """Configure the email-password recipe.

    Args:
        sign_up_feature: extra sign-up fields, or other validators for ``email``/``password``.
        override: ``InputOverrideConfig(functions=..., apis=...)``.
        email_delivery: where password-reset emails go (:class:`bastion.email.SMTPBackend`;
            the default prints them, for development).
        password_hashing: argon2id parameters and the maximum password length (defaults:
            t=2, m=19 MiB, p=1, 128 characters). Hashes made with other parameters are
            upgraded at the next sign-in.
        sign_in_throttling: per-account and per-client limits on failed sign-ins (defaults:
            10 per 15 min per account, hard stop after 100 in a row until a password reset,
            100 per 15 min per client address).
        reset_token_lifetime_s: how long a reset link works (1 hour).
        revoke_sessions_on_password_change: sign the user out everywhere when the password
            changes (reset or ``update_email_or_password``).
        password_policy: how new passwords are checked at sign-up, reset and change. The
            default keeps SuperTokens' rule (8 to 99 characters, a letter and a digit) and
            refuses common passwords and ones based on the email or the app name;
            ``PasswordPolicy.nist()`` checks the length only (8 to 128) plus the same screening.
    """
    config = EmailPasswordConfig.resolve(
        sign_up_feature=sign_up_feature,
        password_hashing=password_hashing,
        throttling=sign_in_throttling,
        email_delivery=email_delivery,
        reset_token_lifetime_s=reset_token_lifetime_s,
        revoke_sessions_on_password_change=revoke_sessions_on_password_change,
        password_policy=password_policy,
    )
    return EmailPasswordRecipeInit(config=config, override=override)
