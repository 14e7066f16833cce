"""The ``st-ev`` claim: whether the session user's email is verified (spec sections 8.1, 8.3)."""

from __future__ import annotations

from typing import Any

from bastion.runtime import current_app, current_clock
from bastion.sessions.claims import (
    BooleanClaim,
    BooleanClaimValidators,
    ClaimValidationResult,
    JSONObject,
    SessionClaimValidator,
)

__all__ = ["EmailVerificationClaim", "EmailVerificationClaimClass", "IsVerifiedValidator"]


async def _fetch_is_verified(
    user_id: str,
    recipe_user_id: str,
    tenant_id: str,
    current_payload: JSONObject,
    user_context: dict[str, Any],
) -> bool | None:
    recipe = current_app().recipes.get("emailverification")
    if recipe is None:
        return None  # the recipe is not initialised: leave the claim alone
    verified: bool = await recipe.is_email_verified(recipe_user_id, user_context)
    return verified


class IsVerifiedValidator(SessionClaimValidator):
    """Valid when ``st-ev`` is true (and, with ``max_age_in_seconds``, fresh enough).

    Refetches when the value is absent, older than ``max_age_in_seconds``, or false and older
    than ``refetch_time_on_false_in_seconds``, so a link used in another tab counts soon.
    """

    def __init__(
        self,
        claim: EmailVerificationClaimClass,
        refetch_time_on_false_in_seconds: int,
        max_age_in_seconds: int | None,
        id_: str | None,
    ) -> None:
        super().__init__(id_ or claim.key, claim)
        self._claim = claim
        self._refetch_on_false_ms = refetch_time_on_false_in_seconds * 1000
        self._max_age_ms = None if max_age_in_seconds is None else max_age_in_seconds * 1000
        self._check = BooleanClaimValidators(claim).has_value(True, max_age_in_seconds, id_)

    def should_refetch(self, payload: JSONObject, user_context: dict[str, Any]) -> bool:
        value = self._claim.get_value_from_payload(payload)
        if value is None:
            return True
        fetched_at = self._claim.get_last_refetch_time(payload) or 0
        now = current_clock().now_ms()
        if self._max_age_ms is not None and fetched_at < now - self._max_age_ms:
            return True
        return value is False and fetched_at < now - self._refetch_on_false_ms

    async def validate(
        self, payload: JSONObject, user_context: dict[str, Any]
    ) -> ClaimValidationResult:
        return await self._check.validate(payload, user_context)


class EmailVerificationClaimValidators(BooleanClaimValidators):
    """``has_value``, ``is_true``, ``is_false`` and ``is_verified``."""

    def __init__(self, claim: EmailVerificationClaimClass) -> None:
        super().__init__(claim)
        self._ev_claim = claim

    def is_verified(
        self,
        refetch_time_on_false_in_seconds: int = 10,
        max_age_in_seconds: int | None = None,
        id_: str | None = None,
    ) -> SessionClaimValidator:
        """The validator REQUIRED mode adds to every ``verify_session``."""
        return IsVerifiedValidator(
            self._ev_claim, refetch_time_on_false_in_seconds, max_age_in_seconds, id_
        )


class EmailVerificationClaimClass(BooleanClaim):
    """``st-ev``: ``{"v": bool, "t": ms}``; users without an email count as verified."""

    def __init__(self) -> None:
        super().__init__("st-ev", _fetch_is_verified)
        self.validators: EmailVerificationClaimValidators = EmailVerificationClaimValidators(self)


EmailVerificationClaim = EmailVerificationClaimClass()
