"""The ``st-mfa`` session claim and its validators (spec sections 8.1, 9.2, 9.3).

``st-mfa`` is ``{"c": {factorId: completed-at}, "v": bool}`` with no ``t``: ``c`` lists the
factors completed in this session (epoch seconds), ``v`` says whether the MFA requirements for
auth were met when it was last computed. It is computed by the MFA recipe when a factor is
completed, on ``PUT /auth/mfa/info``, and when a validator finds it missing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bastion.core.mfa import (
    Requirement,
    effective_completions,
    requirement_failure,
    stale_failure,
    validate_requirements,
)
from bastion.errors import ConfigError
from bastion.recipe.multifactorauth.types import MFAClaimValue
from bastion.runtime import current_app, current_clock
from bastion.sessions.claims import (
    ClaimValidationResult,
    JSONObject,
    SessionClaim,
    SessionClaimValidator,
)

if TYPE_CHECKING:
    from bastion.recipe.multifactorauth.recipe import MultiFactorAuthRecipe

__all__ = ["MultiFactorAuthClaim", "MultiFactorAuthClaimClass"]

NOT_IN_PAYLOAD = {"message": "MFA info not available in payload"}
DEFAULT_SUBSTITUTES: dict[str, Collection[str]] = {"recovery-code": ("totp", "webauthn")}


def _recipe() -> MultiFactorAuthRecipe:
    recipe = current_app().recipes.get("multifactorauth")
    if recipe is None:
        raise ConfigError("st-mfa needs the multifactorauth recipe in bastion.init(recipe_list=…)")
    result: MultiFactorAuthRecipe = recipe
    return result


def _substitutes() -> Mapping[str, Collection[str]]:
    recipe = current_app().recipes.get("multifactorauth")
    return recipe.substitutes if recipe is not None else DEFAULT_SUBSTITUTES


class MultiFactorAuthClaimClass(SessionClaim[MFAClaimValue]):
    """The ``st-mfa`` claim. Use the module-level :data:`MultiFactorAuthClaim`."""

    def __init__(self, key: str = "st-mfa") -> None:
        super().__init__(key, self._fetch)
        self.validators = MultiFactorAuthClaimValidators(self)

    async def _fetch(
        self,
        user_id: str,
        recipe_user_id: str,
        tenant_id: str,
        current_payload: JSONObject,
        user_context: dict[str, Any],
    ) -> MFAClaimValue:
        value, _ = await _recipe().compute_claim_value(
            user_id, tenant_id, current_payload, None, user_context
        )
        return value

    def add_to_payload_(
        self, payload: JSONObject, value: MFAClaimValue, user_context: dict[str, Any] | None = None
    ) -> JSONObject:
        """Write ``value``, keeping factors already in the payload's ``c`` (spec 8.1)."""
        previous = self.get_value_from_payload(payload)
        completed = dict(previous["c"]) if previous is not None else {}
        completed.update(value["c"])
        payload[self.key] = {"c": completed, "v": bool(value["v"])}
        return payload

    def get_value_from_payload(
        self, payload: JSONObject, user_context: dict[str, Any] | None = None
    ) -> MFAClaimValue | None:
        entry = payload.get(self.key)
        if isinstance(entry, dict) and isinstance(entry.get("c"), dict):
            return {"c": dict(entry["c"]), "v": entry.get("v") is True}
        return None


class _MFAValidator(SessionClaimValidator):
    """Refetches ``st-mfa`` only when it is missing (its ``v`` is sticky, spec 9.2)."""

    def __init__(self, claim: MultiFactorAuthClaimClass, id_: str | None) -> None:
        super().__init__(id_ or claim.key, claim)
        self._claim = claim

    def should_refetch(self, payload: JSONObject, user_context: dict[str, Any]) -> bool:
        return self._claim.get_value_from_payload(payload) is None


class _RequirementsForAuth(_MFAValidator):
    async def validate(
        self, payload: JSONObject, user_context: dict[str, Any]
    ) -> ClaimValidationResult:
        value = self._claim.get_value_from_payload(payload)
        if value is None:
            return ClaimValidationResult(False, dict(NOT_IN_PAYLOAD))
        if not value["v"]:
            return ClaimValidationResult(
                False, {"message": "MFA requirement for auth is not satisfied"}
            )
        return ClaimValidationResult(True)


class _RequirementList(_MFAValidator):
    def __init__(
        self, claim: MultiFactorAuthClaimClass, requirements: list[Requirement], id_: str | None
    ) -> None:
        super().__init__(claim, id_)
        self._requirements = requirements

    async def validate(
        self, payload: JSONObject, user_context: dict[str, Any]
    ) -> ClaimValidationResult:
        value = self._claim.get_value_from_payload(payload)
        if value is None:
            return ClaimValidationResult(False, dict(NOT_IN_PAYLOAD))
        completed = effective_completions(value["c"], _substitutes())
        reason = requirement_failure(completed, self._requirements)
        return ClaimValidationResult(reason is None, reason)


class _CompletedWithin(_RequirementList):
    def __init__(
        self,
        claim: MultiFactorAuthClaimClass,
        requirements: list[Requirement],
        max_age_s: int,
        id_: str | None,
    ) -> None:
        super().__init__(claim, requirements, id_)
        self._max_age_s = max_age_s

    async def validate(
        self, payload: JSONObject, user_context: dict[str, Any]
    ) -> ClaimValidationResult:
        value = self._claim.get_value_from_payload(payload)
        if value is None:
            return ClaimValidationResult(False, dict(NOT_IN_PAYLOAD))
        completed = effective_completions(value["c"], _substitutes())
        reason = stale_failure(
            completed,
            self._requirements,
            now_s=current_clock().now_ms() / 1000,
            max_age_s=self._max_age_s,
        )
        return ClaimValidationResult(reason is None, reason)

    def challenge(self, reason: dict[str, Any] | None) -> str | None:
        # RFC 9470 section 3: ask the client to re-authenticate recently enough.
        return (
            'Bearer error="insufficient_user_authentication", '
            'error_description="A more recent second factor is required", '
            f"max_age={self._max_age_s}"
        )


def _requirements(requirement_list: Sequence[Requirement]) -> list[Requirement]:
    try:
        return validate_requirements(list(requirement_list))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


class MultiFactorAuthClaimValidators:
    """Validator factories of :data:`MultiFactorAuthClaim`."""

    def __init__(self, claim: MultiFactorAuthClaimClass) -> None:
        self._claim = claim

    def has_completed_mfa_requirements_for_auth(
        self, claim_key: str | None = None
    ) -> SessionClaimValidator:
        """Valid when ``v`` is true: every requirement for auth was met (a global validator)."""
        return _RequirementsForAuth(self._claim, claim_key)

    def has_completed_requirement_list(
        self, requirement_list: Sequence[Requirement], claim_key: str | None = None
    ) -> SessionClaimValidator:
        """Valid when the session's completed factors satisfy ``requirement_list``.

        Items are factor ids, ``{"oneOf": [...]}`` or ``{"allOfInAnyOrder": [...]}``; a failure
        reason names the first unsatisfied item: ``{"message", "factorId"}``,
        ``{"message", "oneOf"}`` or ``{"message", "allOfInAnyOrder"}``.
        """
        return _RequirementList(self._claim, _requirements(requirement_list), claim_key)

    def has_completed_factors_within(
        self,
        requirement_list: Sequence[Requirement],
        seconds: int,
        claim_key: str | None = None,
    ) -> SessionClaimValidator:
        """Step-up: valid when ``requirement_list`` is satisfied by factors completed in this
        session within the last ``seconds``.

        ``has_completed_factors_within(["totp"], seconds=300)`` asks for a TOTP code entered in
        the last five minutes; ``[{"oneOf": ["totp", "webauthn"]}]`` accepts either. A failure
        reason is ``{"message": "factor not completed recently enough", "factorId": "totp",
        "ageInSeconds": <age or null>, "maxAgeInSeconds": 300}`` (``oneOf``/``allOfInAnyOrder``
        instead of ``factorId`` for those items).
        """
        if seconds <= 0:
            raise ConfigError("seconds must be positive")
        return _CompletedWithin(self._claim, _requirements(requirement_list), seconds, claim_key)


MultiFactorAuthClaim = MultiFactorAuthClaimClass()
"""The ``st-mfa`` claim; its validators are on ``MultiFactorAuthClaim.validators``."""
