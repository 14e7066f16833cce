"""The email-password recipe's options (what ``emailpassword.init`` takes) and their resolution."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bastion.core.passwords import PasswordHashing
from bastion.email.message import EmailBackend
from bastion.errors import ConfigError
from bastion.ratelimit import Limit
from bastion.recipe.emailpassword.forms import (
    EMAIL,
    PASSWORD,
    FieldSpec,
    FormFieldValidator,
    default_email_validator,
)
from bastion.recipe.emailpassword.screening import PasswordPolicy

if TYPE_CHECKING:
    from bastion.recipe.emailpassword.interfaces import APIInterface, RecipeInterface

__all__ = [
    "EmailPasswordConfig",
    "InputFormField",
    "InputOverrideConfig",
    "InputSignUpFeature",
    "SignInThrottling",
]


@dataclass(slots=True)
class InputFormField:
    """A sign-up form field. ``validate(value, tenant_id)`` returns an error message or None
    (it may be async). Giving ``email`` or ``password`` replaces that field's default validator;
    those two are never optional."""

    id: str
    validate: FormFieldValidator | None = None
    optional: bool | None = None


@dataclass(slots=True)
class InputSignUpFeature:
    """The sign-up form: extra fields, or other validators for ``email``/``password``."""

    form_fields: list[InputFormField] = field(default_factory=list)


@dataclass(slots=True)
class InputOverrideConfig:
    """``functions`` receives the :class:`RecipeInterface` and returns the one to use;
    ``apis`` does the same for the :class:`APIInterface`."""

    functions: Callable[[RecipeInterface], RecipeInterface] | None = None
    apis: Callable[[APIInterface], APIInterface] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInThrottling:
    """How failed sign-ins are throttled (security guide, tests 13-17).

    Per account (the normalised email, known or not): ``account_attempts`` per
    ``account_window_s``, and a hard stop after ``lock_after`` attempts without a success,
    lifted only by a password reset (NIST SP 800-63B caps it at 100). Per client address:
    ``client_attempts`` failures per ``client_window_s``. Throttled requests get HTTP 429
    ``{"message": ...}`` without any password hashing.
    """

    account_attempts: int = 10
    account_window_s: int = 15 * 60
    lock_after: int | None = 100
    client_attempts: int = 100
    client_window_s: int = 15 * 60

    def __post_init__(self) -> None:
        if self.lock_after is not None and self.lock_after > 100:
            raise ConfigError("lock_after must be at most 100 (NIST SP 800-63B 5.2.2)")

    def account_limit(self) -> Limit:
        return Limit(
            name="signin-account",
            max_attempts=self.account_attempts,
            window_s=self.account_window_s,
            lock_after=self.lock_after,
            message="Too many failed sign-in attempts for this account. Please try again later.",
            locked_message=(
                "Too many failed sign-in attempts for this account. "
                "Reset your password to sign in again."
            ),
        )

    def client_limit(self) -> Limit:
        return Limit(
            name="signin-client",
            max_attempts=self.client_attempts,
            window_s=self.client_window_s,
            message="Too many failed sign-in attempts. Please try again later.",
        )


RESET_EMAIL_LIMIT = Limit(name="password-reset-email", max_attempts=5, window_s=3600)
"""Reset emails per account and hour; beyond it the endpoint still answers OK, sending nothing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailPasswordConfig:
    """Resolved settings of the recipe."""

    sign_up_fields: tuple[FieldSpec, ...]
    sign_in_fields: tuple[FieldSpec, ...]
    reset_token_fields: tuple[FieldSpec, ...]
    reset_password_fields: tuple[FieldSpec, ...]
    password_hashing: PasswordHashing
    throttling: SignInThrottling
    email_delivery: EmailBackend
    reset_token_lifetime_s: int
    revoke_sessions_on_password_change: bool
    password_policy: PasswordPolicy

    @classmethod
    def resolve(
        cls,
        *,
        sign_up_feature: InputSignUpFeature | None,
        password_hashing: PasswordHashing | None,
        throttling: SignInThrottling | None,
        email_delivery: EmailBackend | None,
        reset_token_lifetime_s: int,
        revoke_sessions_on_password_change: bool,
        password_policy: PasswordPolicy | None = None,
    ) -> EmailPasswordConfig:
        given = list(sign_up_feature.form_fields) if sign_up_feature else []
        ids = [f.id for f in given]
        if len(set(ids)) != len(ids):
            raise ConfigError("each sign-up form field id may appear only once")
        by_id = {f.id: f for f in given}
        email = FieldSpec(
            EMAIL, (by_id[EMAIL].validate if EMAIL in by_id else None) or default_email_validator
        )
        policy = password_policy or PasswordPolicy()
        if not isinstance(policy, PasswordPolicy):
            raise ConfigError("password_policy must be a PasswordPolicy (PasswordPolicy.nist())")

        async def policy_rule(value: object, tenant_id: str) -> str | None:
            return policy.check_rule(value)

        password = FieldSpec(
            PASSWORD, (by_id[PASSWORD].validate if PASSWORD in by_id else None) or policy_rule
        )
        extra = tuple(
            FieldSpec(f.id, f.validate, bool(f.optional))
            for f in given
            if f.id not in (EMAIL, PASSWORD)
        )
        if reset_token_lifetime_s < 60:
            raise ConfigError("reset_token_lifetime_s must be at least 60")
        if email_delivery is None:
            from bastion.email.backends import ConsoleBackend

            email_delivery = ConsoleBackend()
        return cls(
            sign_up_fields=(email, password, *extra),
            sign_in_fields=(email, FieldSpec(PASSWORD)),
            reset_token_fields=(email,),
            reset_password_fields=(password,),
            password_hashing=password_hashing or PasswordHashing(),
            throttling=throttling or SignInThrottling(),
            email_delivery=email_delivery,
            reset_token_lifetime_s=reset_token_lifetime_s,
            revoke_sessions_on_password_change=revoke_sessions_on_password_change,
            password_policy=policy,
        )
