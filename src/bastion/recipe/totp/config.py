"""``TOTPConfig``: the TOTP recipe's settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bastion.core.attempts import AttemptPolicy
from bastion.core.otp import ALGORITHMS, Algorithm
from bastion.errors import ConfigError

if TYPE_CHECKING:
    from bastion.recipe.totp.interfaces import APIInterface, RecipeInterface

__all__ = ["OverrideConfig", "TOTPConfig"]


@dataclass(slots=True)
class OverrideConfig:
    """``functions`` receives the TOTP :class:`RecipeInterface`, ``apis`` the
    :class:`APIInterface`; each returns the instance to use."""

    functions: Callable[[RecipeInterface], RecipeInterface] | None = None
    apis: Callable[[APIInterface], APIInterface] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TOTPConfig:
    """Settings of ``totp.init(config=TOTPConfig(...))``; every field has a default."""

    issuer: str | None = None
    """Shown in authenticator apps; the app name when None."""
    default_skew: int = 1
    """Time steps accepted on each side of the current one (1: ±30 s with the default period)."""
    default_period: int = 30
    """Seconds per code."""
    default_algorithm: Algorithm = "SHA1"
    """``SHA1`` (what every app supports), ``SHA256`` or ``SHA512`` for new devices."""
    default_digits: int = 6
    """6 or 8 digits for new devices."""
    max_attempts: int = 5
    """Wrong codes in a row before the cooldown."""
    cooldown_seconds: int = 900
    """How long codes are refused after ``max_attempts`` wrong ones."""
    hard_lock_after: int | None = 100
    """Wrong codes with no success in between that lock TOTP until a reset (an admin's
    ``totp.asyncio.reset_failed_attempts`` or a recovery code); None disables the lock."""
    recovery_code_resets_lockout: bool = True
    """Whether a recovery code lifts the hard lock (it always completes the factor)."""
    override: OverrideConfig | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.default_skew <= 10:
            raise ConfigError("default_skew must be between 0 and 10 steps")
        if not 5 <= self.default_period <= 300:
            raise ConfigError("default_period must be between 5 and 300 seconds")
        if self.default_algorithm not in ALGORITHMS:
            raise ConfigError("default_algorithm must be 'SHA1', 'SHA256' or 'SHA512'")
        if self.default_digits not in (6, 8):
            raise ConfigError("default_digits must be 6 or 8")
        try:
            self.attempt_policy  # noqa: B018 - validates the throttling settings
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc

    @property
    def attempt_policy(self) -> AttemptPolicy:
        """The throttling settings as :class:`~bastion.core.attempts.AttemptPolicy`."""
        return AttemptPolicy(
            max_attempts=self.max_attempts,
            cooldown_ms=self.cooldown_seconds * 1000,
            hard_lock_after=self.hard_lock_after,
        )
