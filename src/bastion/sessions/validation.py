"""Running claim validators: refetch what they ask for, then collect the failures.

Used for live sessions (``verify_session``) and for stored ones
(``validate_claims_for_session_handle``) alike.
"""

from __future__ import annotations

from typing import Any

from bastion.sessions.claims import ClaimValidationError, SessionClaimValidator

__all__ = ["refetch_claims", "run_validators"]


async def refetch_claims(
    validators: list[SessionClaimValidator],
    payload: dict[str, Any],
    *,
    user_id: str,
    recipe_user_id: str,
    tenant_id: str,
    user_context: dict[str, Any],
) -> dict[str, Any]:
    """Fetch claims whose validators say so; update ``payload`` in place, return the changes."""
    update: dict[str, Any] = {}
    for validator in validators:
        claim = validator.claim
        if claim is None or not validator.should_refetch(payload, user_context):
            continue
        value = await claim.fetch(
            user_id,
            user_context,
            recipe_user_id=recipe_user_id,
            tenant_id=tenant_id,
            current_payload=payload,
        )
        if value is not None:
            # Given the current payload, so claims that merge with their old value (st-mfa) can.
            written = claim.add_to_payload_(dict(payload), value, user_context)
            update[claim.key] = written[claim.key]
            payload[claim.key] = written[claim.key]
    return update


async def run_validators(
    validators: list[SessionClaimValidator], payload: dict[str, Any], user_context: dict[str, Any]
) -> list[ClaimValidationError]:
    """Every failing validator, in order."""
    errors = []
    for validator in validators:
        result = await validator.validate(payload, user_context)
        if not result.is_valid:
            errors.append(
                ClaimValidationError(
                    validator.id, result.reason, challenge=validator.challenge(result.reason)
                )
            )
    return errors
