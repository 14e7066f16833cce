"""The session recipe: its configuration, implementation, overrides and API routes."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from bastion.bridge import run_sync
from bastion.core.crypto import SecretBox
from bastion.core.refresh_tokens import RefreshTokenCodec
from bastion.errors import ConfigError
from bastion.http.responses import ErrorHandlers, json_response
from bastion.http.router import ApiRoute
from bastion.http.types import BaseRequest, HttpResponse
from bastion.recipe.session.interfaces import APIInterface, APIOptions, RecipeInterface
from bastion.sessions.claims import SessionClaim, SessionClaimValidator
from bastion.sessions.config import SessionConfig, TransferChooser
from bastion.sessions.implementation import SessionRecipeImplementation
from bastion.sessions.keyring import KeyRing
from bastion.sessions.request_flow import get_session_from_request, user_context_for
from bastion.sessions.verifier import AccessTokenVerifier

if TYPE_CHECKING:
    from bastion.app import Bastion

__all__ = ["AAL2", "InputOverrideConfig", "SessionRecipe", "SessionRecipeInit"]

RECIPE_ID = "session"
REFRESH_KEY_SECRET = "refresh-token-key"

AAL2: Mapping[str, int] = MappingProxyType(
    {
        "session_max_age": 12 * 3600,
        "refresh_token_validity": 30 * 60,
        "access_token_validity": 15 * 60,
    }
)
"""NIST SP 800-63B (rev 3, 4.2.3) AAL2 session limits: ``session.init(**session.AAL2)``.

Sign in again after 12 hours whatever the activity, and after 30 minutes without a refresh;
15-minute access tokens make an active client refresh well within the 30 minutes.
"""


@dataclass(slots=True)
class InputOverrideConfig:
    """``functions`` receives the :class:`RecipeInterface` and returns the one to use;
    ``apis`` does the same for :class:`APIInterface`."""

    functions: Callable[[RecipeInterface], RecipeInterface] | None = None
    apis: Callable[[APIInterface], APIInterface] | None = None


@dataclass(slots=True, kw_only=True)
class SessionRecipeInit:
    """What ``session.init(...)`` returns: the user's settings, applied by ``bastion.init``."""

    settings: dict[str, Any]
    override: InputOverrideConfig | None
    error_handlers: ErrorHandlers | None

    recipe_id: str = RECIPE_ID

    def build(self, app: Bastion) -> SessionRecipe:
        return SessionRecipe(app, self)


class SessionRecipe:
    """Owns the session config, the (overridable) implementation and the session API routes."""

    recipe_id = RECIPE_ID

    def __init__(self, app: Bastion, init: SessionRecipeInit) -> None:
        self.app = app
        self.config = SessionConfig.resolve(app.app_info, **init.settings)
        self.error_handlers = init.error_handlers or ErrorHandlers()
        self.claims_added_by_other_recipes: list[SessionClaim[Any]] = []
        self.claim_validators_added_by_other_recipes: list[SessionClaimValidator] = []
        self.keyring = KeyRing(
            app.store,
            app.clock,
            dynamic=self.config.use_dynamic_access_token_signing_key,
            interval_s=self.config.signing_key_update_interval,
            access_validity_s=self.config.access_token_validity,
            # Private keys are sealed at rest when the app has encryption keys.
            box=SecretBox(app.encryption_keys) if app.encryption_keys else None,
        )
        refresh_key = run_sync(
            app.store.get_or_create_secret(REFRESH_KEY_SECRET, secrets.token_bytes(32))
        )
        run_sync(self.keyring.signing_key())  # create the first key now, not in a request
        self.verifier = AccessTokenVerifier(
            self.keyring,
            dynamic_keys=self.config.use_dynamic_access_token_signing_key,
            issuer=self.config.issuer,
        )
        implementation: RecipeInterface = SessionRecipeImplementation(
            store=app.store,
            clock=app.clock,
            config=self.config,
            keyring=self.keyring,
            verifier=self.verifier,
            codec=RefreshTokenCodec(refresh_key),
            claims_added_by_other_recipes=self.claims_added_by_other_recipes,
            audit=app.audit,
        )
        apis = APIInterface()
        override = init.override
        if override is not None and override.functions is not None:
            implementation = override.functions(implementation)
        if override is not None and override.apis is not None:
            apis = override.apis(apis)
        self.recipe_implementation = implementation
        self.api_implementation = apis

    def add_claim_from_other_recipe(self, claim: SessionClaim[Any]) -> None:
        """Build ``claim`` into every new session's payload."""
        if any(c.key == claim.key for c in self.claims_added_by_other_recipes):
            raise ConfigError(f"a claim with key {claim.key!r} was already added")
        self.claims_added_by_other_recipes.append(claim)

    def add_claim_validator_from_other_recipe(self, validator: SessionClaimValidator) -> None:
        """Run ``validator`` in every ``verify_session`` (unless overridden per route)."""
        self.claim_validators_added_by_other_recipes.append(validator)

    # -- API routes ----------------------------------------------------------------------------

    def routes(self) -> list[ApiRoute]:
        apis = self.api_implementation
        return [
            ApiRoute(
                "POST",
                "/session/refresh",
                RECIPE_ID,
                self._refresh,
                lambda: apis.disable_refresh_post,
            ),
            ApiRoute(
                "POST", "/signout", RECIPE_ID, self._signout, lambda: apis.disable_signout_post
            ),
            ApiRoute("GET", "/jwt/jwks.json", "jwt", self._jwks),
            ApiRoute("GET", "/.well-known/openid-configuration", "openid", self._openid),
        ]

    def _options(self, request: BaseRequest) -> APIOptions:
        return APIOptions(request, self.config, self.recipe_implementation)

    async def _refresh(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        await self.api_implementation.refresh_post(self._options(request), context)
        return json_response(200, {}, request.state.changes)

    async def _signout(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        session = await get_session_from_request(
            request, override_global_claim_validators=lambda v, s, c: [], user_context=context
        )
        body = await self.api_implementation.signout_post(session, self._options(request), context)
        return json_response(200, body, request.state.changes)

    async def _jwks(self, request: BaseRequest) -> HttpResponse:
        keys, max_age = await self.keyring.jwks()
        response = json_response(200, {"keys": keys})
        response.changes.set_header("cache-control", f"max-age={max_age}, must-revalidate")
        response.changes.set_header("access-control-allow-origin", "*")
        return response

    async def _openid(self, request: BaseRequest) -> HttpResponse:
        issuer = self.config.issuer
        return json_response(
            200,
            {
                "status": "OK",
                "issuer": issuer,
                "jwks_uri": issuer + "/jwt/jwks.json",
            },
        )


def session_init(
    cookie_secure: bool | None = None,
    cookie_same_site: Literal["lax", "none", "strict"] | None = None,
    session_expired_status_code: int | None = None,
    anti_csrf: Literal["VIA_TOKEN", "VIA_CUSTOM_HEADER", "NONE"] | None = None,
    cookie_domain: str | None = None,
    older_cookie_domain: str | None = None,
    get_token_transfer_method: TransferChooser | None = None,
    error_handlers: ErrorHandlers | None = None,
    override: InputOverrideConfig | None = None,
    invalid_claim_status_code: int | None = None,
    use_dynamic_access_token_signing_key: bool | None = None,
    expose_access_token_to_frontend_in_cookie_based_auth: bool | None = None,
    access_token_validity: int | None = None,
    refresh_token_validity: int | None = None,
    refresh_token_grace_period: int | None = None,
    signing_key_update_interval: int | None = None,
    session_max_age: int | None = None,
) -> SessionRecipeInit:
    """Configure the session recipe (pass the result in ``bastion.init(recipe_list=[...])``).

    Args:
        cookie_secure: ``Secure`` on cookies; defaults to whether ``api_domain`` is https.
        cookie_same_site: defaults to ``none`` when API and website are cross-site, else ``lax``.
        session_expired_status_code: status of unauthorised/try-refresh answers (401).
        anti_csrf: ``VIA_TOKEN``, ``VIA_CUSTOM_HEADER`` or ``NONE``; defaults to
            ``VIA_CUSTOM_HEADER`` when SameSite is ``none``, else ``NONE``.
        cookie_domain: ``Domain`` of the session cookies (host-only when None).
        older_cookie_domain: a previous ``cookie_domain`` whose cookies should be cleared.
        get_token_transfer_method: ``(request, for_create_new_session, user_context)`` ->
            ``"cookie"``, ``"header"`` or ``"any"``.
        error_handlers: replacements for the default error answers.
        override: ``InputOverrideConfig(functions=..., apis=...)``.
        invalid_claim_status_code: status of a failed claim validation (403).
        use_dynamic_access_token_signing_key: rotate signing keys (``d-`` ids) or use one
            static key (``s-`` id).
        expose_access_token_to_frontend_in_cookie_based_auth: also send ``st-access-token``
            in cookie mode.
        access_token_validity: access-token lifetime in seconds (3600).
        refresh_token_validity: session lifetime in seconds since the last refresh (100 days):
            the idle limit.
        refresh_token_grace_period: seconds during which a just-rotated refresh token is still
            accepted, for concurrent refreshes and lost responses (30, at most 300).
        signing_key_update_interval: seconds between dynamic key rotations (7 days).
        session_max_age: absolute session lifetime in seconds since sign-in, however often
            it is refreshed (None, the default: no limit). Access tokens never outlive it.
            :data:`AAL2` holds the NIST SP 800-63B AAL2 values.
    """
    given = {
        "cookie_secure": cookie_secure,
        "cookie_same_site": cookie_same_site,
        "session_expired_status_code": session_expired_status_code,
        "anti_csrf": anti_csrf,
        "cookie_domain": cookie_domain,
        "older_cookie_domain": older_cookie_domain,
        "get_token_transfer_method": get_token_transfer_method,
        "invalid_claim_status_code": invalid_claim_status_code,
        "use_dynamic_access_token_signing_key": use_dynamic_access_token_signing_key,
        "expose_access_token_to_frontend_in_cookie_based_auth": (
            expose_access_token_to_frontend_in_cookie_based_auth
        ),
        "access_token_validity": access_token_validity,
        "refresh_token_validity": refresh_token_validity,
        "refresh_token_grace_period": refresh_token_grace_period,
        "signing_key_update_interval": signing_key_update_interval,
        "session_max_age": session_max_age,
    }
    settings = {k: v for k, v in given.items() if v is not None}
    return SessionRecipeInit(settings=settings, override=override, error_handlers=error_handlers)
