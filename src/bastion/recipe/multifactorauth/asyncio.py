"""MFA functions for async code; :mod:`bastion.recipe.multifactorauth.syncio` has the same."""

from __future__ import annotations

from typing import Any

from bastion.core.mfa import Requirement
from bastion.errors import ConfigError
from bastion.recipe.multifactorauth import recovery
from bastion.recipe.multifactorauth.recipe import MultiFactorAuthRecipe
from bastion.runtime import current_app
from bastion.sessions.container import SessionContainer

__all__ = [
    "add_to_required_secondary_factors_for_app",
    "add_to_required_secondary_factors_for_user",
    "assert_allowed_to_setup_factor_else_throw_invalid_claim_error",
    "generate_recovery_codes",
    "get_factors_setup_for_user",
    "get_mfa_requirements_for_auth",
    "get_recovery_codes_remaining",
    "get_required_secondary_factors_for_app",
    "get_required_secondary_factors_for_user",
    "mark_factor_as_complete_in_session",
    "remove_from_required_secondary_factors_for_app",
    "remove_from_required_secondary_factors_for_user",
]


def _recipe() -> MultiFactorAuthRecipe:
    recipe = current_app().recipes.get("multifactorauth")
    if not isinstance(recipe, MultiFactorAuthRecipe):
        raise ConfigError("add multifactorauth.init() to bastion.init(recipe_list=[...])")
    return recipe


def _ctx(user_context: dict[str, Any] | None) -> dict[str, Any]:
    return {} if user_context is None else user_context


async def mark_factor_as_complete_in_session(
    session: SessionContainer, factor_id: str, user_context: dict[str, Any] | None = None
) -> None:
    """Record ``factor_id`` as completed now in ``st-mfa`` and re-issue the access token."""
    await _recipe().recipe_implementation.mark_factor_as_complete_in_session(
        session, factor_id, _ctx(user_context)
    )


async def assert_allowed_to_setup_factor_else_throw_invalid_claim_error(
    session: SessionContainer, factor_id: str, user_context: dict[str, Any] | None = None
) -> None:
    """Raise a 403 ``st-mfa`` error unless the session may set up ``factor_id`` now."""
    implementation = _recipe().recipe_implementation
    await implementation.assert_allowed_to_setup_factor_else_throw_invalid_claim_error(
        session, factor_id, _ctx(user_context)
    )


async def get_mfa_requirements_for_auth(
    session: SessionContainer, user_context: dict[str, Any] | None = None
) -> list[Requirement]:
    """The session's requirement list (its ``st-mfa`` is brought up to date on the way)."""
    state = await _recipe().update_session(session, None, _ctx(user_context))
    return state.requirements


async def get_factors_setup_for_user(
    user_id: str, user_context: dict[str, Any] | None = None
) -> list[str]:
    """The factors the user has set up (a verified TOTP device, a password, …)."""
    return await _recipe().factors_set_up_for_user(user_id, _ctx(user_context))


async def get_required_secondary_factors_for_user(
    user_id: str, user_context: dict[str, Any] | None = None
) -> list[str]:
    return await _recipe().recipe_implementation.get_required_secondary_factors_for_user(
        user_id, _ctx(user_context)
    )


async def add_to_required_secondary_factors_for_user(
    user_id: str, factor_id: str, user_context: dict[str, Any] | None = None
) -> None:
    """Require ``factor_id`` of this user from their next MFA computation on (new sessions,
    ``/mfa/info``): like SuperTokens, a session whose ``st-mfa`` is already satisfied stays so."""
    await _recipe().recipe_implementation.add_to_required_secondary_factors_for_user(
        user_id, factor_id, _ctx(user_context)
    )


async def remove_from_required_secondary_factors_for_user(
    user_id: str, factor_id: str, user_context: dict[str, Any] | None = None
) -> None:
    await _recipe().recipe_implementation.remove_from_required_secondary_factors_for_user(
        user_id, factor_id, _ctx(user_context)
    )


async def get_required_secondary_factors_for_app(
    user_context: dict[str, Any] | None = None,
) -> list[str]:
    """Factors required of every user: ``init``'s plus those added at run time."""
    return await _recipe().recipe_implementation.get_required_secondary_factors_for_app(
        _ctx(user_context)
    )


async def add_to_required_secondary_factors_for_app(
    factor_id: str, user_context: dict[str, Any] | None = None
) -> None:
    await _recipe().recipe_implementation.add_to_required_secondary_factors_for_app(
        factor_id, _ctx(user_context)
    )


async def remove_from_required_secondary_factors_for_app(
    factor_id: str, user_context: dict[str, Any] | None = None
) -> None:
    await _recipe().recipe_implementation.remove_from_required_secondary_factors_for_app(
        factor_id, _ctx(user_context)
    )


async def generate_recovery_codes(user_id: str) -> list[str]:
    """A new set of recovery codes for ``user_id``, replacing the old ones (admin use: no
    step-up check; the ``POST /mfa/recovery-codes`` API has one)."""
    return await recovery.generate(_recipe(), user_id)


async def get_recovery_codes_remaining(user_id: str) -> int:
    """How many unused recovery codes the user has."""
    body = await recovery.status_body(_recipe(), user_id)
    remaining: int = body["remaining"]
    return remaining
