"""The passwordless recipe's options (what ``passwordless.init`` takes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from bastion.email.message import EmailBackend
from bastion.errors import ConfigError
from bastion.ratelimit import Limit
from bastion.recipe.passwordless.sms import SmsBackend

if TYPE_CHECKING:
    from bastion.recipe.passwordless.interfaces import APIInterface, RecipeInterface

__all__ = [
    "CodeThrottling",
    "ContactMethod",
    "FlowType",
    "OverrideConfig",
    "PasswordlessConfig",
    "Validator",
]

ContactMethod = Literal["EMAIL", "PHONE", "EMAIL_OR_PHONE"]
FlowType = Literal["USER_INPUT_CODE", "MAGIC_LINK", "USER_INPUT_CODE_AND_MAGIC_LINK"]
Validator = Callable[[str, str], "Awaitable[str | None] | str | None"]
"""``(value, tenant_id) -> error message or None``; may be async."""

MIN_LIFETIME_S = 60
MAX_LIFETIME_S = 900  # 15 min: the protocol's default; ASVS 2.7.2 asks for 10 (our default)


@dataclass(slots=True)
class OverrideConfig:
    """``functions`` receives the :class:`RecipeInterface` and returns the one to use;
    ``apis`` does the same for the :class:`APIInterface`."""

    functions: Callable[[RecipeInterface], RecipeInterface] | None = None
    apis: Callable[[APIInterface], APIInterface] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeThrottling:
    """How code sending and code guessing are throttled (security guide, test 27).

    Sending (``/signinup/code`` and ``/code/resend``) is limited per account, that is per email
    address or phone number whether or not a user has it, and per client address. Wrong user
    input codes are limited per account across all its login attempts, on top of the
    ``max_code_input_attempts`` of each: with the defaults an attacker gets at most 20 guesses
    an hour at a 6-digit code (about 0.05 % a day). Refused requests get HTTP 429.
    """

    sends_per_account: int = 3
    account_window_s: int = 60
    sends_per_client: int = 20
    client_window_s: int = 60
    wrong_codes_per_account: int = 20
    wrong_codes_window_s: int = 3600

    def __post_init__(self) -> None:
        values = (
            self.sends_per_account,
            self.account_window_s,
            self.sends_per_client,
            self.client_window_s,
            self.wrong_codes_per_account,
            self.wrong_codes_window_s,
        )
        if any(v < 1 for v in values):
            raise ConfigError("every CodeThrottling setting must be at least 1")

    def account_limit(self) -> Limit:
        return Limit(
            name="passwordless-send-account",
            max_attempts=self.sends_per_account,
            window_s=self.account_window_s,
            message="Too many codes sent to this address. Please try again later.",
        )

    def client_limit(self) -> Limit:
        return Limit(
            name="passwordless-send-client",
            max_attempts=self.sends_per_client,
            window_s=self.client_window_s,
            message="Too many codes requested. Please try again later.",
        )

    def wrong_code_limit(self) -> Limit:
        return Limit(
            name="passwordless-wrong-code",
            max_attempts=self.wrong_codes_per_account,
            window_s=self.wrong_codes_window_s,
            message="Too many wrong codes for this address. Please try again later.",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordlessConfig:
    """Resolved settings of the recipe."""

    contact_method: ContactMethod
    flow_type: FlowType
    email_delivery: EmailBackend
    sms_delivery: SmsBackend
    code_lifetime_s: int
    """How long a code (and its link) works; a resend starts a new lifetime."""
    max_code_input_attempts: int
    throttling: CodeThrottling
    validate_email_address: Validator | None
    validate_phone_number: Validator | None

    def __post_init__(self) -> None:
        if self.contact_method not in get_args(ContactMethod):
            raise ConfigError("contact_method must be 'EMAIL', 'PHONE' or 'EMAIL_OR_PHONE'")
        if self.flow_type not in get_args(FlowType):
            raise ConfigError(
                "flow_type must be 'USER_INPUT_CODE', 'MAGIC_LINK' or "
                "'USER_INPUT_CODE_AND_MAGIC_LINK'"
            )
        if not MIN_LIFETIME_S <= self.code_lifetime_s <= MAX_LIFETIME_S:
            raise ConfigError(
                f"code_lifetime must be between {MIN_LIFETIME_S} and {MAX_LIFETIME_S} seconds"
            )
        if not 1 <= self.max_code_input_attempts <= 5:
            raise ConfigError("max_code_input_attempts must be between 1 and 5")

    @property
    def sends_code(self) -> bool:
        return self.flow_type != "MAGIC_LINK"

    @property
    def sends_link(self) -> bool:
        return self.flow_type != "USER_INPUT_CODE"

    @property
    def uses_email(self) -> bool:
        return self.contact_method != "PHONE"

    @property
    def uses_phone(self) -> bool:
        return self.contact_method != "EMAIL"

    def factor_ids(self) -> list[str]:
        """The MFA factors this configuration offers (``otp-email``, ``link-phone``, …)."""
        kinds = [k for k, on in (("email", self.uses_email), ("phone", self.uses_phone)) if on]
        ways = [w for w, on in (("otp", self.sends_code), ("link", self.sends_link)) if on]
        return [f"{way}-{kind}" for kind in kinds for way in ways]
