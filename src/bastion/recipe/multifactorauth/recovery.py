"""Recovery codes: the factor ``recovery-code``.

A set of codes (10 by default, see :mod:`bastion.core.recovery_codes` for the format) is shown
once and stored as salted slow hashes. Each code works once. A used code completes
``recovery-code`` in the session, which counts as the factors it stands in for (``totp`` by
default), so it satisfies a TOTP requirement; it also lifts a TOTP hard lock (configurable in
``TOTPConfig``). Wrong codes feed the same failed-attempt counter as TOTP codes.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from bastion.audit import EventType, Outcome
from bastion.bridge import run_blocking
from bastion.core.recovery_codes import generate_codes, hash_secret, parse_code, verify_secret
from bastion.recipe.multifactorauth.claim import MultiFactorAuthClaim
from bastion.sessions.sensitive import verify_sensitive_operation
from bastion.storage.base import RecoveryCodeRecord

if TYPE_CHECKING:
    from bastion.recipe.multifactorauth.recipe import MultiFactorAuthRecipe
    from bastion.sessions.container import SessionContainer

__all__ = ["assert_may_regenerate", "consume", "consume_in_session", "generate", "status_body"]

FACTOR_ID = "recovery-code"


async def generate(
    recipe: MultiFactorAuthRecipe, user_id: str, user_context: dict[str, Any] | None = None
) -> list[str]:
    """Replace the user's codes with a new set and return it (the only time it is readable)."""
    codes = generate_codes(recipe.recovery_codes.count)
    now = recipe.app.clock.now_ms()
    records = []
    for code in codes:
        parsed = parse_code(code)
        if parsed is None:  # pragma: no cover - generate_codes only makes parseable codes
            raise RuntimeError("generated an unparseable recovery code")
        code_hash = await run_blocking(functools.partial(hash_secret, parsed.secret))
        records.append(RecoveryCodeRecord(user_id, parsed.code_id, code_hash, now, None))
    await recipe.app.store.replace_recovery_codes(user_id, records)
    await recipe.app.audit.emit(
        EventType.RECOVERY_CODES_CREATED,
        Outcome.SUCCESS,
        user_context=user_context,
        user_id=user_id,
        factor=FACTOR_ID,
    )
    return codes


async def status_body(recipe: MultiFactorAuthRecipe, user_id: str) -> dict[str, Any]:
    records = await recipe.app.store.list_recovery_codes(user_id)
    remaining = sum(1 for r in records if r.used_at_ms is None)
    return {"status": "OK", "remaining": remaining, "total": len(records)}


async def assert_may_regenerate(
    recipe: MultiFactorAuthRecipe, session: SessionContainer, user_context: dict[str, Any]
) -> None:
    """A sensitive operation (401 for a revoked session), and 403 ``st-mfa`` unless MFA is
    complete and a factor the codes stand in for was completed recently."""
    await verify_sensitive_operation(recipe.app, session, user_context)
    await recipe.update_session(session, None, user_context)
    config = recipe.recovery_codes
    await session.assert_claims(
        [
            MultiFactorAuthClaim.validators.has_completed_mfa_requirements_for_auth(),
            MultiFactorAuthClaim.validators.has_completed_factors_within(
                [{"oneOf": list(config.substitutes_for)}], config.regenerate_max_age_seconds
            ),
        ],
        user_context,
    )


async def consume(
    recipe: MultiFactorAuthRecipe,
    user_id: str,
    text: str,
    user_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check and use up a code (no session involved); the reply body of the verify API."""
    store = recipe.app.store

    async def event(outcome: Outcome, reason: str | None = None) -> None:
        await recipe.app.audit.emit(
            EventType.FACTOR,
            outcome,
            user_context=user_context,
            user_id=user_id,
            factor=FACTOR_ID,
            reason=reason,
        )

    now = recipe.app.clock.now_ms()
    policy, resets_lockout = recipe.attempt_policy()
    # Recovery codes ignore the hard lock: lifting it is what they are for.
    decision = await store.begin_factor_attempt(
        user_id, now_ms=now, policy=policy, honour_hard_lock=False
    )
    if not decision.allowed:
        await event(Outcome.THROTTLED)
        return {"status": "LIMIT_REACHED_ERROR", "retryAfterMs": decision.retry_after_ms}
    parsed = parse_code(text)
    record = None
    if parsed is not None:
        record = next(
            (
                r
                for r in await store.list_recovery_codes(user_id)
                if r.code_id == parsed.code_id and r.used_at_ms is None
            ),
            None,
        )
    accepted = False
    if parsed is not None and record is not None:
        stored = record.code_hash
        if await run_blocking(functools.partial(verify_secret, parsed.secret, stored)):
            accepted = await store.use_recovery_code(
                user_id, record.code_id, stored, now_ms=now, reset_attempts=resets_lockout
            )
    if not accepted:
        await event(Outcome.FAILURE, "wrong_code")
        return {
            "status": "INVALID_RECOVERY_CODE_ERROR",
            "currentNumberOfFailedAttempts": decision.failures,
            "maxNumberOfFailedAttempts": policy.max_attempts,
        }
    remaining = sum(1 for r in await store.list_recovery_codes(user_id) if r.used_at_ms is None)
    await event(Outcome.SUCCESS)
    return {"status": "OK", "remainingCodes": remaining}


async def consume_in_session(
    recipe: MultiFactorAuthRecipe,
    session: SessionContainer,
    text: str,
    user_context: dict[str, Any],
) -> dict[str, Any]:
    """Use a code for the session's user and complete ``recovery-code`` in the session."""
    body = await consume(recipe, session.get_user_id(), text, user_context)
    if body["status"] == "OK":
        await recipe.recipe_implementation.mark_factor_as_complete_in_session(
            session, FACTOR_ID, user_context
        )
    return body
