"""Passwordless sign-in by email or SMS (codes and magic links), as a first or second factor.

``passwordless.init(...)`` goes in ``bastion.init(recipe_list=[...])``; the frontend SDKs'
``Passwordless`` flows (``createCode``, ``resendCode``, ``consumeCode``, the exists checks) then
work unchanged against ``/auth`` (spec 7.3). With the MFA recipe, the same endpoints serve the
factors ``otp-email``/``link-email`` (and ``otp-phone``/``link-phone``) for a signed-in user:
see :mod:`bastion.recipe.passwordless.factors` for the rules. Functions for app code are in
:mod:`.asyncio` and :mod:`.syncio`.
"""

from __future__ import annotations

from bastion.email.message import EmailBackend
from bastion.recipe.passwordless.config import (
    CodeThrottling,
    ContactMethod,
    FlowType,
    OverrideConfig,
    PasswordlessConfig,
    Validator,
)
from bastion.recipe.passwordless.interfaces import (
    APIInterface,
    APIOptions,
    LoginMessage,
    RecipeInterface,
)
from bastion.recipe.passwordless.recipe import PasswordlessRecipe, PasswordlessRecipeInit
from bastion.recipe.passwordless.sms import (
    ConsoleSmsBackend,
    InMemorySmsOutbox,
    SmsBackend,
    SmsMessage,
)

__all__ = [
    "APIInterface",
    "APIOptions",
    "CodeThrottling",
    "ConsoleSmsBackend",
    "ContactMethod",
    "FlowType",
    "InMemorySmsOutbox",
    "InputOverrideConfig",
    "LoginMessage",
    "OverrideConfig",
    "PasswordlessRecipe",
    "RecipeInterface",
    "SmsBackend",
    "SmsMessage",
    "init",
]

InputOverrideConfig = OverrideConfig


def init(
    contact_method: ContactMethod = "EMAIL",
    flow_type: FlowType = "USER_INPUT_CODE",
    email_delivery: EmailBackend | None = None,
    sms_delivery: SmsBackend | None = None,
    override: OverrideConfig | None = None,
    *,
    code_lifetime: int = 600,
    max_code_input_attempts: int = 5,
    throttling: CodeThrottling | None = None,
    validate_email_address: Validator | None = None,
    validate_phone_number: Validator | None = None,
) -> PasswordlessRecipeInit:
    """Configure the passwordless recipe.

    Args:
        contact_method: ``"EMAIL"``, ``"PHONE"`` or ``"EMAIL_OR_PHONE"``.
        flow_type: ``"USER_INPUT_CODE"`` (a 6-digit code), ``"MAGIC_LINK"`` or
            ``"USER_INPUT_CODE_AND_MAGIC_LINK"``.
        email_delivery: where codes go by email (:class:`bastion.email.SMTPBackend`; the
            default prints them, for development).
        sms_delivery: an :class:`SmsBackend` for your SMS provider (the default prints).
        override: ``OverrideConfig(functions=..., apis=...)``; override
            ``RecipeInterface.build_login_email``/``build_login_sms`` to change the messages.
        code_lifetime: seconds a code or link works, 60 to 900 (10 minutes, ASVS 2.7.2).
        max_code_input_attempts: wrong codes before the login attempt is dead (1 to 5).
        throttling: sending and guessing limits (:class:`CodeThrottling`; defaults 3 codes a
            minute per address, 20 per client, 20 wrong codes an hour per address).
        validate_email_address: ``(email, tenant_id) -> message | None`` instead of the
            default check (may be async).
        validate_phone_number: ``(e164_number, tenant_id) -> message | None``, run after the
            built-in E.164 check (for instance with the ``phonenumbers`` package).
    """
    config = PasswordlessConfig(
        contact_method=contact_method,
        flow_type=flow_type,
        email_delivery=email_delivery or _console_email(),
        sms_delivery=sms_delivery or ConsoleSmsBackend(),
        code_lifetime_s=code_lifetime,
        max_code_input_attempts=max_code_input_attempts,
        throttling=throttling or CodeThrottling(),
        validate_email_address=validate_email_address,
        validate_phone_number=validate_phone_number,
    )
    return PasswordlessRecipeInit(config=config, override=override)


def _console_email() -> EmailBackend:
    from bastion.email.backends import ConsoleBackend

    return ConsoleBackend()
