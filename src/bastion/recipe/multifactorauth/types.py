"""Factor ids and value types of the MFA recipe."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from bastion.core.mfa import Requirement
from bastion.errors import ConfigError

__all__ = ["FactorIds", "MFAClaimValue", "MFAState", "RecoveryCodesConfig"]


class FactorIds:
    """The factor ids of the protocol, plus bastion's ``recovery-code``."""

    EMAILPASSWORD = "emailpassword"
    OTP_EMAIL = "otp-email"
    OTP_PHONE = "otp-phone"
    LINK_EMAIL = "link-email"
    LINK_PHONE = "link-phone"
    THIRDPARTY = "thirdparty"
    TOTP = "totp"
    WEBAUTHN = "webauthn"
    RECOVERY_CODE = "recovery-code"


class MFAClaimValue(TypedDict):
    """The ``st-mfa`` claim: completed factors (``id -> epoch seconds``) and whether the
    requirements for auth are met."""

    c: dict[str, Any]
    v: bool


@dataclass(frozen=True, slots=True)
class MFAState:
    """The session's MFA situation after a recomputation."""

    completed: dict[str, Any]
    """The claim's ``c`` as stored."""
    is_satisfied: bool
    """The claim's ``v``."""
    requirements: list[Requirement]
    next_factors: list[str] = field(default_factory=list)
    """The factors of the first unsatisfied requirement (``[]`` when satisfied)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCodesConfig:
    """Recovery codes: how many, what they stand in for, and what (re)generating needs."""

    count: int = 10
    """Codes in a set."""
    substitutes_for: Sequence[str] = ("totp", "webauthn")
    """Factors a used recovery code counts as (it then satisfies their requirements)."""
    regenerate_max_age_seconds: int = 300
    """(Re)generating needs a secondary factor completed this recently (step-up)."""

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 64:
            raise ConfigError("a recovery code set has between 1 and 64 codes")
        if self.regenerate_max_age_seconds <= 0:
            raise ConfigError("regenerate_max_age_seconds must be positive")
