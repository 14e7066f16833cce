"""The MFA recipe: the ``st-mfa`` claim kept up to date, the setup guard, ``/mfa/info``.

Secondary factors attach to the session's user; no account linking is needed. Factor
recipes are found through the cross-recipe contract: any recipe in the app may provide
``get_factors_set_up_for_user(user_id, user_context)``, ``get_emails_for_factors(user_id,
user_context)``, ``get_phone_numbers_for_factors(user_id, user_context)`` and a ``factor_ids``
list (the factors it offers).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.audit import EventType, Outcome
from bastion.core.attempts import AttemptPolicy
from bastion.core.mfa import (
    FACTOR_IDS,
    completion_seconds,
    effective_completions,
    next_unsatisfied,
    validate_requirements,
)
from bastion.errors import ConfigError, InvalidClaimsError, UnauthorisedError
from bastion.http.router import ApiRoute
from bastion.recipe.multifactorauth.claim import MultiFactorAuthClaim
from bastion.recipe.multifactorauth.interfaces import (
    APIInterface,
    OverrideConfig,
    RecipeInterface,
)
from bastion.recipe.multifactorauth.types import MFAClaimValue, MFAState, RecoveryCodesConfig
from bastion.sessions.claims import ClaimValidationError
from bastion.sessions.sensitive import verify_live_session, verify_sensitive_operation

if TYPE_CHECKING:
    from bastion.app import Bastion
    from bastion.sessions.container import SessionContainer

__all__ = ["MultiFactorAuthRecipe", "MultiFactorAuthRecipeInit"]

logger = logging.getLogger("bastion")

RECIPE_ID = "multifactorauth"
EMAIL_FACTORS = ("emailpassword", "otp-email", "link-email")
PHONE_FACTORS = ("otp-phone", "link-phone")
# The factors a recipe offers when it does not say (``factor_ids``) itself.
DEFAULT_FACTORS_OF_RECIPE = {
    "emailpassword": ["emailpassword"],
    "thirdparty": ["thirdparty"],
    "passwordless": ["otp-email", "link-email", "otp-phone", "link-phone"],
    "totp": ["totp"],
    "webauthn": ["webauthn"],
}
NOT_SATISFIED = "Completed factors in the session does not satisfy the MFA requirements for auth"
NOT_NEXT = "Not allowed to setup factor that is not in the next set of unsatisfied factors"
REQUIREMENTS_NOT_MET = "MFA requirement for auth is not satisfied"
# Factors that cannot be completed again inside a session (signing in makes a new one), so they
# never serve as the recent second factor of a sensitive operation.
SESSION_STARTING_FACTORS = ("emailpassword", "thirdparty")
DEFAULT_STEP_UP_MAX_AGE_S = 300
DEFAULT_SECOND_FACTOR_DEADLINE_S = 600
LAST_FACTOR_MESSAGE = (
    "This is your last second factor and your account must have one: set up another before "
    "removing it."
)
DEADLINE_MESSAGE = "The second factor was not completed in time: sign in again"


@dataclass(slots=True, kw_only=True)
class MultiFactorAuthRecipeInit:
    """What ``multifactorauth.init(...)`` returns; ``bastion.init`` builds it."""

    first_factors: list[str] | None
    required_secondary_factors: list[str]
    override: OverrideConfig | None
    recovery_codes: RecoveryCodesConfig
    step_up_max_age_seconds: int = DEFAULT_STEP_UP_MAX_AGE_S
    second_factor_deadline_seconds: int = DEFAULT_SECOND_FACTOR_DEADLINE_S
    recipe_id: str = RECIPE_ID

    def build(self, app: Bastion) -> MultiFactorAuthRecipe:
        return MultiFactorAuthRecipe(app, self)


def _factor_list(value: Sequence[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(f, str) and f for f in value):
        raise ConfigError(f"{what} must be a list of factor ids")
    return list(dict.fromkeys(value))


class MultiFactorAuthRecipe:
    """Computes ``st-mfa``, guards factor setup and serves ``/mfa/*``."""

    recipe_id = RECIPE_ID

    def __init__(self, app: Bastion, init: MultiFactorAuthRecipeInit) -> None:
        self.app = app
        self.first_factors = init.first_factors
        self.required_secondary_factors = init.required_secondary_factors
        self.recovery_codes = init.recovery_codes
        self.step_up_max_age_seconds = init.step_up_max_age_seconds
        self.second_factor_deadline_seconds = init.second_factor_deadline_seconds
        self.substitutes = {"recovery-code": tuple(init.recovery_codes.substitutes_for)}
        implementation = RecipeInterface(self)
        apis = APIInterface()
        if init.override is not None and init.override.functions is not None:
            implementation = init.override.functions(implementation)
        if init.override is not None and init.override.apis is not None:
            apis = init.override.apis(apis)
        self.recipe_implementation = implementation
        self.api_implementation = apis
        app.session_recipe.add_claim_validator_from_other_recipe(
            MultiFactorAuthClaim.validators.has_completed_mfa_requirements_for_auth()
        )

    def on_app_ready(self) -> None:
        """Warn about required factors no initialised recipe offers (nobody could pass)."""
        offered = set(self.available_factors())
        for factor in self.required_secondary_factors:
            if factor not in offered:
                logger.warning(
                    "multifactorauth: required factor %r is offered by no initialised recipe",
                    factor,
                )

    async def delete_user_data(self, user_id: str, user_context: dict[str, Any]) -> None:
        """Called by ``delete_user``: TOTP devices, recovery codes, counters, required factors."""
        await self.app.store.delete_mfa_data(user_id)

    def routes(self) -> list[ApiRoute]:
        from bastion.recipe.multifactorauth.api import routes

        return routes(self)

    # -- factors offered by the other recipes ----------------------------------------------------

    def factor_recipes(self) -> list[Any]:
        """Every other recipe of the app (the ones that may provide factors)."""
        return [r for r in self.app.recipes.values() if r is not self]

    def available_factors(self) -> list[str]:
        """The factors the app's recipes offer, in a stable order."""
        offered: list[str] = []
        for recipe in self.factor_recipes():
            ids = getattr(recipe, "factor_ids", None)
            if ids is None:
                ids = DEFAULT_FACTORS_OF_RECIPE.get(recipe.recipe_id, [])
            offered.extend(f for f in ids if f not in offered)
        return offered

    async def factors_set_up_for_user(
        self, user_id: str, user_context: dict[str, Any]
    ) -> list[str]:
        factors = await self.recipe_implementation.get_factors_setup_for_user(user_id, user_context)
        return [f for f in factors if f != "recovery-code"]

    async def contact_info(
        self, user_id: str, user_context: dict[str, Any]
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """``emails`` and ``phoneNumbers`` of ``/mfa/info``: one list per offered factor."""
        available = self.available_factors()
        emails: dict[str, list[str]] = {f: [] for f in EMAIL_FACTORS if f in available}
        phones: dict[str, list[str]] = {f: [] for f in PHONE_FACTORS if f in available}
        for recipe in self.factor_recipes():
            for method, target in (
                ("get_emails_for_factors", emails),
                ("get_phone_numbers_for_factors", phones),
            ):
                if not hasattr(recipe, method):
                    continue
                found = await getattr(recipe, method)(user_id, user_context)
                for factor, values in found.items():
                    listed = target.setdefault(factor, [])
                    listed.extend(v for v in values if v not in listed)
        return emails, phones

    def attempt_policy(self) -> tuple[AttemptPolicy, bool]:
        """The failed-attempt policy (TOTP's settings) and whether a recovery code lifts a
        hard lock."""
        totp = self.app.recipes.get("totp")
        if totp is None:
            return AttemptPolicy(), True
        return totp.config.attempt_policy, totp.config.recovery_code_resets_lockout

    # -- the st-mfa claim ----------------------------------------------------------------------

    async def compute_claim_value(
        self,
        user_id: str,
        tenant_id: str,
        payload: dict[str, Any],
        updated_factor: str | None,
        user_context: dict[str, Any],
    ) -> tuple[MFAClaimValue, MFAState]:
        """The claim value for a session's payload, with ``updated_factor`` completed now."""
        previous = MultiFactorAuthClaim.get_value_from_payload(payload)
        completed = dict(previous["c"]) if previous is not None else {}
        if updated_factor is not None:
            completed[updated_factor] = self.app.clock.now_ms() // 1000
        impl = self.recipe_implementation

        async def set_up() -> list[str]:
            return await self.factors_set_up_for_user(user_id, user_context)

        async def for_user() -> list[str]:
            return await impl.get_required_secondary_factors_for_user(user_id, user_context)

        async def for_app() -> list[str]:
            return await impl.get_required_secondary_factors_for_app(user_context)

        requirements = await impl.get_mfa_requirements_for_auth(
            tenant_id=tenant_id,
            access_token_payload=payload,
            completed_factors=dict(completed),
            user_id=user_id,
            factors_set_up_for_user=set_up,
            required_secondary_factors_for_user=for_user,
            required_secondary_factors_for_app=for_app,
            user_context=user_context,
        )
        try:
            requirements = validate_requirements(requirements)
        except ValueError as exc:
            raise ConfigError(f"get_mfa_requirements_for_auth returned {exc}") from exc
        missing = next_unsatisfied(effective_completions(completed, self.substitutes), requirements)
        value: MFAClaimValue = {"c": completed, "v": not missing}
        return value, MFAState(completed, not missing, requirements, missing)

    async def update_session(
        self, session: SessionContainer, updated_factor: str | None, user_context: dict[str, Any]
    ) -> MFAState:
        """Recompute ``st-mfa``; if it changed, store it and re-issue the access token."""
        payload = session.get_access_token_payload()
        value, state = await self.compute_claim_value(
            session.get_user_id(), session.get_tenant_id(), payload, updated_factor, user_context
        )
        if value != MultiFactorAuthClaim.get_value_from_payload(payload):
            await session.set_claim_value(MultiFactorAuthClaim, value, user_context)
        return state

    async def mark_first_factor_complete(
        self, session: SessionContainer, factor_id: str, user_context: dict[str, Any]
    ) -> None:
        """Called by a first-factor recipe right after it created ``session`` at sign-in.

        A factor that is not an allowed first factor revokes the new session (401).
        """
        if self.first_factors is not None and factor_id not in self.first_factors:
            await session.revoke_session(user_context)
            raise UnauthorisedError("Incorrect login method used")
        await self.recipe_implementation.mark_factor_as_complete_in_session(
            session, factor_id, user_context
        )

    # -- the setup guard and /mfa/info -------------------------------------------------------------

    @staticmethod
    def _setup_refusal(state: MFAState, set_up: list[str], factor_id: str) -> str | None:
        if state.is_satisfied:
            return None
        if any(f in set_up for f in state.next_factors):
            return NOT_SATISFIED  # complete a factor you have before adding another
        if state.next_factors and factor_id not in state.next_factors:
            return NOT_NEXT
        return None

    async def assert_allowed_to_setup(
        self, session: SessionContainer, factor_id: str, user_context: dict[str, Any]
    ) -> None:
        state = await self.update_session(session, None, user_context)
        set_up = await self.factors_set_up_for_user(session.get_user_id(), user_context)
        refusal = self._setup_refusal(state, set_up, factor_id)
        if refusal is not None:
            raise InvalidClaimsError(
                "invalid claim",
                [ClaimValidationError(MultiFactorAuthClaim.key, {"message": refusal})],
            )
        if state.is_satisfied:
            # Adding a factor is a sensitive operation (a recent second factor, if any).
            await verify_sensitive_operation(self.app, session, user_context)
        else:
            # The factor this session owes, of which the user has none yet: the first setup
            # the requirements demand (no second factor can be recent). A live session only.
            await verify_live_session(self.app, session, user_context)

    # -- sensitive operations, the second factor's deadline, the last factor --------------------

    async def second_factors_of(
        self, session: SessionContainer, user_context: dict[str, Any]
    ) -> list[str]:
        """The factors the session's user has set up that count as second factors.

        Allowed first factors do not count (nor, without ``first_factors``, email-password,
        third-party and the factor this session started with), nor do recovery codes (they
        stand in for TOTP, not beside it).
        """
        set_up = await self.factors_set_up_for_user(session.get_user_id(), user_context)
        first = self.first_factors if self.first_factors is not None else SESSION_STARTING_FACTORS
        second = [f for f in set_up if f not in first]
        if self.first_factors is None:
            started = _starting_factor(session.get_access_token_payload())
            second = [f for f in second if f != started]
        return second

    async def check_sensitive_operation(
        self, session: SessionContainer, user_context: dict[str, Any]
    ) -> None:
        """The hook of :func:`~bastion.sessions.sensitive.verify_sensitive_operation`: a user
        with a second factor needs the MFA requirements met and one of their second factors
        completed within ``step_up_max_age_seconds`` (403 ``st-mfa`` otherwise, with an
        RFC 9470 challenge for the step-up)."""
        second = await self.second_factors_of(session, user_context)
        if not second:
            return
        state = await self.update_session(session, None, user_context)
        if not state.is_satisfied:
            raise InvalidClaimsError(
                "invalid claim",
                [ClaimValidationError(MultiFactorAuthClaim.key, {"message": REQUIREMENTS_NOT_MET})],
            )
        step_up = MultiFactorAuthClaim.validators.has_completed_factors_within(
            [{"oneOf": second}], self.step_up_max_age_seconds
        )
        try:
            await session.assert_claims([step_up], user_context)
        except InvalidClaimsError:
            await self.app.audit.emit(
                EventType.STEP_UP_REQUIRED,
                Outcome.REFUSED,
                user_context=user_context,
                user_id=session.get_user_id(),
                session_handle=session.get_handle(),
                reason="second_factor_not_recent",
            )
            raise

    async def may_remove_factor(
        self, user_id: str, factor_id: str, user_context: dict[str, Any]
    ) -> bool:
        """False when ``factor_id`` is the user's last required secondary factor: the user
        must have one (by the required factors of the user and of the app) and no other
        required factor is set up."""
        impl = self.recipe_implementation
        required = [
            *await impl.get_required_secondary_factors_for_user(user_id, user_context),
            *await impl.get_required_secondary_factors_for_app(user_context),
        ]
        if factor_id not in required:
            return True
        remaining = await self.factors_set_up_for_user(user_id, user_context)
        return any(f in required for f in remaining if f != factor_id)

    def last_factor_refusal(self) -> dict[str, Any]:
        """The answer to a request that would remove the user's last required factor."""
        return {"status": "GENERAL_ERROR", "message": LAST_FACTOR_MESSAGE}

    async def check_second_factor_deadline(
        self, session: SessionContainer, user_context: dict[str, Any]
    ) -> None:
        """End a session that still owes a factor ``second_factor_deadline_seconds`` after its
        first one: it is revoked and the request gets 401 with the tokens cleared, on which
        the frontend SDK ends the session; the user starts over from the first factor."""
        payload = session.get_access_token_payload()
        value = MultiFactorAuthClaim.get_value_from_payload(payload)
        if value is None or value["v"]:
            return
        times = [t for v in value["c"].values() if (t := completion_seconds(v)) is not None]
        now_s = self.app.clock.now_ms() / 1000
        if not times or now_s - min(times) <= self.second_factor_deadline_seconds:
            return
        state = await self.update_session(session, None, user_context)
        if state.is_satisfied:  # the requirements changed meanwhile: nothing is owed
            return
        await self.app.audit.emit(
            EventType.FACTOR,
            Outcome.EXPIRED,
            user_context=user_context,
            user_id=session.get_user_id(),
            session_handle=session.get_handle(),
            reason="second_factor_deadline",
        )
        await session.revoke_session(user_context)
        raise UnauthorisedError(DEADLINE_MESSAGE)

    async def mfa_info(
        self, session: SessionContainer, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        """The body of ``PUT /mfa/info`` (spec 7.4 and the algorithm of 9.3)."""
        user_id = session.get_user_id()
        state = await self.update_session(session, None, user_context)
        set_up = await self.factors_set_up_for_user(user_id, user_context)
        allowed = [
            f for f in self.available_factors() if self._setup_refusal(state, set_up, f) is None
        ]
        next_factors = [f for f in state.next_factors if f in allowed or f in set_up]
        if state.next_factors and not next_factors:
            logger.error(
                "mfa: user %s must complete %s but may set up none of them",
                user_id,
                state.next_factors,
            )
            return {
                "status": "GENERAL_ERROR",
                "message": "The user is required to complete secondary factors they are not "
                "allowed to set up: " + ", ".join(state.next_factors),
            }
        emails, phones = await self.contact_info(user_id, user_context)
        return {
            "status": "OK",
            "factors": {"next": next_factors, "alreadySetup": set_up, "allowedToSetup": allowed},
            "emails": emails,
            "phoneNumbers": phones,
        }


def _starting_factor(payload: dict[str, Any]) -> str | None:
    """The factor a session began with: the earliest completion in its ``st-mfa``."""
    value = MultiFactorAuthClaim.get_value_from_payload(payload)
    times = {f: t for f, v in (value["c"] if value else {}).items() if (t := completion_seconds(v))}
    return min(times, key=lambda f: times[f]) if times else None


def mfa_init(
    first_factors: Sequence[str] | None = None,
    required_secondary_factors: Sequence[str] | None = None,
    override: OverrideConfig | None = None,
    recovery_codes: RecoveryCodesConfig | None = None,
    *,
    step_up_max_age_seconds: int = DEFAULT_STEP_UP_MAX_AGE_S,
    second_factor_deadline_seconds: int = DEFAULT_SECOND_FACTOR_DEADLINE_S,
) -> MultiFactorAuthRecipeInit:
    """Configure multi-factor auth (pass the result in ``bastion.init(recipe_list=[...])``).

    Args:
        first_factors: the factors a session may start with (``["emailpassword"]``); a
            first-factor recipe marking another one gets a 401. None allows any.
        required_secondary_factors: factors every user must complete after the first one; by
            default completing any one of them is enough. ``["totp"]`` requires TOTP of
            everybody. More can be required per user or for the app at run time
            (:mod:`bastion.recipe.multifactorauth.asyncio`).
        override: ``OverrideConfig(functions=..., apis=...)``.
        recovery_codes: how recovery codes work (:class:`RecoveryCodesConfig`).
        step_up_max_age_seconds: a user who has a second factor must have completed one this
            recently in the session to add or remove factors, generate recovery codes or
            change their email or password (5 minutes).
        second_factor_deadline_seconds: a session that still owes a factor this long after its
            first factor is ended (401); the user signs in again (10 minutes).
    """
    if step_up_max_age_seconds <= 0 or second_factor_deadline_seconds <= 0:
        raise ConfigError("step_up_max_age_seconds and second_factor_deadline_seconds must be > 0")
    first = _factor_list(first_factors, "first_factors")
    if first is not None and not first:
        raise ConfigError("first_factors cannot be empty (None allows every first factor)")
    required = _factor_list(required_secondary_factors, "required_secondary_factors") or []
    for factor in [*(first or []), *required]:
        if factor not in FACTOR_IDS:
            logger.info("multifactorauth: %r is not a built-in factor id", factor)
    return MultiFactorAuthRecipeInit(
        first_factors=first,
        required_secondary_factors=required,
        override=override,
        recovery_codes=recovery_codes or RecoveryCodesConfig(),
        step_up_max_age_seconds=step_up_max_age_seconds,
        second_factor_deadline_seconds=second_factor_deadline_seconds,
    )
