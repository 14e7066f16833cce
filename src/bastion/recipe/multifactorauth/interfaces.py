"""The MFA recipe's override surfaces.

``RecipeInterface`` holds the decisions (requirements, required factors, what is set up);
``APIInterface`` the HTTP endpoints. ``multifactorauth.init(override=OverrideConfig(...))``
receives the default instance and returns the one to use; replacing a method on the instance
(and calling the original) is the intended way, as with the session recipe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.core.mfa import Requirement, default_requirements

if TYPE_CHECKING:
    from bastion.http.types import BaseRequest
    from bastion.recipe.multifactorauth.recipe import MultiFactorAuthRecipe
    from bastion.sessions.container import SessionContainer

__all__ = ["APIInterface", "APIOptions", "OverrideConfig", "RecipeInterface"]

APP_SCOPE = ("app", "")
Lazy = Callable[[], Awaitable[list[str]]]


class RecipeInterface:
    """The MFA recipe's functions (``override.functions`` receives an instance)."""

    def __init__(self, recipe: MultiFactorAuthRecipe) -> None:
        self._recipe = recipe
        self._store = recipe.app.store

    async def get_mfa_requirements_for_auth(
        self,
        *,
        tenant_id: str,
        access_token_payload: dict[str, Any],
        completed_factors: dict[str, Any],
        user_id: str,
        factors_set_up_for_user: Lazy,
        required_secondary_factors_for_user: Lazy,
        required_secondary_factors_for_app: Lazy,
        user_context: dict[str, Any],
    ) -> list[Requirement]:
        """What a session must have completed; by default one of the required factors.

        That is ``[{"oneOf": user-required + app-required}]``, or ``[]`` (nothing more to do)
        when no secondary factor is required. The ``*_for_*`` arguments are coroutines, so an
        override only pays for the lookups it uses.
        """
        return default_requirements(
            await required_secondary_factors_for_user(),
            await required_secondary_factors_for_app(),
        )

    async def get_factors_setup_for_user(
        self, user_id: str, user_context: dict[str, Any]
    ) -> list[str]:
        """Factors the user can complete now (a verified TOTP device, a password, …).

        Asks every recipe that provides ``get_factors_set_up_for_user``.
        """
        found: list[str] = []
        for recipe in self._recipe.factor_recipes():
            if hasattr(recipe, "get_factors_set_up_for_user"):
                for factor in await recipe.get_factors_set_up_for_user(user_id, user_context):
                    if factor not in found:
                        found.append(factor)
        return found

    async def get_required_secondary_factors_for_user(
        self, user_id: str, user_context: dict[str, Any]
    ) -> list[str]:
        return await self._store.list_required_factors("user", user_id)

    async def add_to_required_secondary_factors_for_user(
        self, user_id: str, factor_id: str, user_context: dict[str, Any]
    ) -> None:
        await self._store.add_required_factor("user", user_id, factor_id)

    async def remove_from_required_secondary_factors_for_user(
        self, user_id: str, factor_id: str, user_context: dict[str, Any]
    ) -> None:
        await self._store.remove_required_factor("user", user_id, factor_id)

    async def get_required_secondary_factors_for_app(
        self, user_context: dict[str, Any]
    ) -> list[str]:
        """``required_secondary_factors`` from ``init`` plus those added at run time."""
        stored = await self._store.list_required_factors(*APP_SCOPE)
        static = list(self._recipe.required_secondary_factors)
        return static + [f for f in stored if f not in static]

    async def add_to_required_secondary_factors_for_app(
        self, factor_id: str, user_context: dict[str, Any]
    ) -> None:
        await self._store.add_required_factor(*APP_SCOPE, factor_id)

    async def remove_from_required_secondary_factors_for_app(
        self, factor_id: str, user_context: dict[str, Any]
    ) -> None:
        """Remove a factor added at run time (those from ``init`` stay required)."""
        await self._store.remove_required_factor(*APP_SCOPE, factor_id)

    async def mark_factor_as_complete_in_session(
        self, session: SessionContainer, factor_id: str, user_context: dict[str, Any]
    ) -> None:
        """Record ``factor_id`` in ``st-mfa`` and re-issue the access token."""
        await self._recipe.update_session(session, factor_id, user_context)

    async def assert_allowed_to_setup_factor_else_throw_invalid_claim_error(
        self, session: SessionContainer, factor_id: str, user_context: dict[str, Any]
    ) -> None:
        """The setup guard (spec 9.3): raise a 403 ``st-mfa`` error unless the session may
        set up ``factor_id`` now."""
        await self._recipe.assert_allowed_to_setup(session, factor_id, user_context)


@dataclass(slots=True)
class APIOptions:
    """What an API implementation receives along with the request."""

    request: BaseRequest
    recipe: MultiFactorAuthRecipe
    recipe_implementation: RecipeInterface


class APIInterface:
    """The MFA recipe's endpoints (``override.apis`` receives an instance).

    Each method returns the JSON body of a 200 answer; flags disable single endpoints.
    """

    def __init__(self) -> None:
        self.disable_resync_session_and_fetch_mfa_info_put = False
        self.disable_recovery_codes_get = False
        self.disable_recovery_codes_post = False
        self.disable_recovery_code_verify_post = False

    async def resync_session_and_fetch_mfa_info_put(
        self, options: APIOptions, session: SessionContainer, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        """``PUT /mfa/info``: recompute ``st-mfa`` and describe the next step."""
        return await options.recipe.mfa_info(session, user_context)

    async def recovery_codes_get(
        self, options: APIOptions, session: SessionContainer, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        """``GET /mfa/recovery-codes``: how many unused codes the user has left."""
        from bastion.recipe.multifactorauth import recovery

        return await recovery.status_body(options.recipe, session.get_user_id())

    async def recovery_codes_post(
        self, options: APIOptions, session: SessionContainer, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        """``POST /mfa/recovery-codes``: a new set, replacing the old one (shown once)."""
        from bastion.recipe.multifactorauth import recovery

        await recovery.assert_may_regenerate(options.recipe, session, user_context)
        codes = await recovery.generate(options.recipe, session.get_user_id(), user_context)
        return {"status": "OK", "recoveryCodes": codes}

    async def recovery_code_verify_post(
        self,
        recovery_code: str,
        options: APIOptions,
        session: SessionContainer,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``POST /mfa/recovery-codes/verify``: use a code as the factor ``recovery-code``."""
        from bastion.recipe.multifactorauth import recovery

        return await recovery.consume_in_session(
            options.recipe, session, recovery_code, user_context
        )


@dataclass(slots=True)
class OverrideConfig:
    """``functions`` receives the :class:`RecipeInterface`, ``apis`` the
    :class:`APIInterface`; each returns the instance to use."""

    functions: Callable[[RecipeInterface], RecipeInterface] | None = None
    apis: Callable[[APIInterface], APIInterface] | None = None
