"""The email-password recipe: routes, request checks, throttling and the cross-recipe hooks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from bastion.audit import EventType, Outcome
from bastion.bridge import run_sync
from bastion.email.backends import ConsoleBackend
from bastion.errors import BadInputError
from bastion.http.responses import json_response
from bastion.http.router import ApiRoute
from bastion.http.types import BaseRequest, HttpResponse
from bastion.ratelimit import Limit, RateLimiter, client_address, counter_key
from bastion.recipe.emailpassword.api import APIImplementation
from bastion.recipe.emailpassword.config import EmailPasswordConfig, InputOverrideConfig
from bastion.recipe.emailpassword.forms import (
    EMAIL,
    PASSWORD,
    FieldSpec,
    FormField,
    field_error,
    read_form_fields,
    validate_form_fields,
    value_of,
)
from bastion.recipe.emailpassword.hashing import AsyncPasswordHasher
from bastion.recipe.emailpassword.implementation import RecipeImplementation
from bastion.recipe.emailpassword.interfaces import APIInterface, APIOptions, RecipeInterface
from bastion.recipe.emailpassword.screening import common_passwords
from bastion.sessions.request_flow import user_context_for
from bastion.users.emails import email_key, normalise_email
from bastion.users.tokens import PASSWORD_RESET, token_hash

if TYPE_CHECKING:
    from bastion.app import Bastion
    from bastion.sessions.container import SessionContainer

__all__ = ["FACTOR_ID", "RECIPE_ID", "EmailPasswordRecipe", "EmailPasswordRecipeInit"]

RECIPE_ID = "emailpassword"
FACTOR_ID = "emailpassword"
PUBLIC = "public"

logger = logging.getLogger("bastion")


@dataclass(slots=True, kw_only=True)
class EmailPasswordRecipeInit:
    """What ``emailpassword.init(...)`` returns; ``bastion.init`` builds the recipe from it."""

    config: EmailPasswordConfig
    override: InputOverrideConfig | None

    recipe_id: str = RECIPE_ID

    def build(self, app: Bastion) -> EmailPasswordRecipe:
        return EmailPasswordRecipe(app, self)


@dataclass(slots=True)
class SignInAttempt:
    """A sign-in that has been counted against the throttles; see :meth:`succeeded`."""

    limiter: RateLimiter
    account_limit: Limit
    account_key: str
    client_limit: Limit
    client_key: str | None

    async def succeeded(self) -> None:
        """Clear the account's failures; take back only this attempt from the client's."""
        await self.limiter.reset(self.account_limit, self.account_key)
        if self.client_key is not None:
            await self.limiter.forgive(self.client_limit, self.client_key)


class EmailPasswordRecipe:
    """Owns the config, the (overridable) implementations and the email-password routes."""

    recipe_id = RECIPE_ID

    def __init__(self, app: Bastion, init: EmailPasswordRecipeInit) -> None:
        self.app = app
        self.config = init.config
        self.hasher = AsyncPasswordHasher(self.config.password_hashing)
        self.limiter = RateLimiter(app.store, app.clock)
        self.account_limit = self.config.throttling.account_limit()
        self.client_limit = self.config.throttling.client_limit()
        # Verifying an unknown email against this costs what a real verification costs.
        self.dummy_hash = run_sync(self.hasher.dummy_hash())
        if self.config.password_policy.blocklist:
            common_passwords()  # read the list now, not in the first sign-up
        implementation: RecipeInterface = RecipeImplementation(self)
        apis: APIInterface = APIImplementation()
        if init.override is not None and init.override.functions is not None:
            implementation = init.override.functions(implementation)
        if init.override is not None and init.override.apis is not None:
            apis = init.override.apis(apis)
        self.recipe_implementation = implementation
        self.api_implementation = apis
        delivery = self.config.email_delivery
        if isinstance(delivery, ConsoleBackend) and not app.app_info.is_local():
            logger.warning(
                "emailpassword: password-reset emails go to the console backend, which withholds "
                "links outside localhost; pass email_delivery=SMTPBackend(...)"
            )

    # -- hooks used by the API and other recipes ------------------------------------------------

    async def begin_sign_in(self, request: BaseRequest, email: str) -> SignInAttempt:
        """Count a sign-in attempt for the client and the account, or raise 429.

        Raises:
            TooManyRequestsError: the client or the account is throttled, or the account is
                locked after too many consecutive failures.
        """
        client = client_address(request, self.app.trusted_proxies)
        account = email_key(email)
        if client is not None:
            verdict = await self.limiter.hit(self.client_limit, client)
            if not verdict.allowed:
                await self.sign_in_event(request, Outcome.THROTTLED, account, "client_limit")
                raise verdict.error()
        verdict = await self.limiter.hit(self.account_limit, account)
        if not verdict.allowed:
            if client is not None:
                await self.limiter.forgive(self.client_limit, client)
            outcome = Outcome.LOCKED if verdict.locked else Outcome.THROTTLED
            await self.sign_in_event(request, outcome, account, "account_limit")
            raise verdict.error()
        return SignInAttempt(self.limiter, self.account_limit, account, self.client_limit, client)

    async def sign_in_event(
        self, request: BaseRequest, outcome: Outcome, account: str, reason: str | None = None
    ) -> None:
        """Audit a sign-in that did not succeed: the user's id when the email is registered,
        else the keyed hash of the email."""
        credential = await self.app.store.get_password_credential(account, tenant_id=PUBLIC)
        await self.app.audit.emit(
            EventType.SIGN_IN,
            outcome,
            request=request,
            user_id=credential.user_id if credential is not None else None,
            account=account,
            factor=FACTOR_ID,
            reason=reason,
        )

    def screen_password(self, password: str, email: str | None) -> str | None:
        """Why a new password is refused by the policy's screening (common, or based on the
        email or the app name), or None."""
        return self.config.password_policy.screen(
            password, email=email, app_name=self.app.app_info.app_name
        )

    def sign_in_lock_counter(self, key: str) -> tuple[str, str]:
        """The stored counter of the account's sign-in limit (lifted by a password reset)."""
        return self.account_limit.name, counter_key(key)

    async def after_first_factor(
        self, session: SessionContainer, user_context: dict[str, Any]
    ) -> None:
        """Tell the MFA recipe, if there is one, that this factor is done."""
        mfa = self.app.recipes.get("multifactorauth")
        if mfa is not None:
            await mfa.mark_first_factor_complete(session, FACTOR_ID, user_context)

    async def after_password_change(
        self, user_id: str, key: str, *, email_proven: bool, user_context: dict[str, Any]
    ) -> None:
        """Lift the account's sign-in lock, revoke sessions (if configured), and with a reset
        link (which proves the mailbox) mark the email verified."""
        await self.limiter.reset(self.account_limit, key)
        if self.config.revoke_sessions_on_password_change:
            await self.app.session_recipe.recipe_implementation.revoke_all_sessions_for_user(
                user_id, None, user_context
            )
        if email_proven and "emailverification" in self.app.recipes:
            await self.app.store.set_email_verified(user_id, key, True)

    def reset_password_link(self, token: str, tenant_id: str) -> str:
        """The website's reset page, from the configured domain (never the request's Host)."""
        info = self.app.app_info
        query = urlencode({"token": token, "tenantId": tenant_id})
        return f"{info.website_domain}{info.website_base_path}/reset-password?{query}"

    # -- the MFA recipe's contract ----------------------------------------------------------------

    async def get_factors_set_up_for_user(
        self, user_id: str, user_context: dict[str, Any]
    ) -> list[str]:
        """``["emailpassword"]`` when the user has a password."""
        found = await self.app.store.get_password_credential_of_user(user_id)
        return [FACTOR_ID] if found is not None else []

    async def get_emails_for_factors(
        self, user_id: str, user_context: dict[str, Any]
    ) -> dict[str, list[str]]:
        """``{"emailpassword": [the user's emails]}``."""
        record = await self.app.store.get_user(user_id)
        emails: list[str] = []
        if record is not None:
            for method in record.login_methods:
                if method.email is not None and method.email not in emails:
                    emails.append(method.email)
        return {FACTOR_ID: emails}

    # -- routes ------------------------------------------------------------------------------------

    def routes(self) -> list[ApiRoute]:
        apis = self.api_implementation
        return [
            ApiRoute(
                "POST", "/signup", RECIPE_ID, self._sign_up, lambda: apis.disable_sign_up_post
            ),
            ApiRoute(
                "POST", "/signin", RECIPE_ID, self._sign_in, lambda: apis.disable_sign_in_post
            ),
            ApiRoute(
                "GET",
                "/emailpassword/email/exists",
                RECIPE_ID,
                self._email_exists,
                lambda: apis.disable_email_exists_get,
            ),
            ApiRoute(
                "GET",
                "/signup/email/exists",
                RECIPE_ID,
                self._email_exists,
                lambda: apis.disable_email_exists_get,
            ),
            ApiRoute(
                "POST",
                "/user/password/reset/token",
                RECIPE_ID,
                self._reset_token,
                lambda: apis.disable_generate_password_reset_token_post,
            ),
            ApiRoute(
                "POST",
                "/user/password/reset",
                RECIPE_ID,
                self._reset_password,
                lambda: apis.disable_password_reset_post,
            ),
        ]

    def _options(self, request: BaseRequest) -> APIOptions:
        return APIOptions(request, self.config, self.recipe_implementation, self, self.app)

    async def _checked_fields(
        self,
        body: Any,
        specs: tuple[FieldSpec, ...],
        *,
        sets_password: bool = False,
        email: str | None = None,
    ) -> tuple[list[FormField], list[dict[str, str]]]:
        """Read and validate. A new password is also screened (``email`` and the app name as
        context), and one over the hashing limit is refused here, before any hashing, even if a
        custom validator allowed it."""
        fields = read_form_fields(body, specs)
        errors = await validate_form_fields(fields, specs, PUBLIC)
        password = value_of(fields, PASSWORD)
        if not sets_password or not isinstance(password, str):
            return fields, errors
        if any(e["id"] == PASSWORD for e in errors):
            return fields, errors
        if self.hasher.is_too_long(password):
            limit = self.hasher.params.max_length
            errors.append(
                {"id": PASSWORD, "error": f"Password's length must be at most {limit} characters"}
            )
            return fields, errors
        email = email if email is not None else value_of(fields, EMAIL)
        problem = self.screen_password(password, email if isinstance(email, str) else None)
        if problem is not None:
            errors.append({"id": PASSWORD, "error": problem})
        return fields, errors

    def _answer(self, request: BaseRequest, body: dict[str, Any]) -> HttpResponse:
        return json_response(200, body, request.state.changes)

    async def _sign_up(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        fields, errors = await self._checked_fields(
            await request.json_body(), self.config.sign_up_fields, sets_password=True
        )
        if errors:
            return self._answer(request, field_error(errors))
        body = await self.api_implementation.sign_up_post(
            fields, PUBLIC, self._options(request), context
        )
        return self._answer(request, body)

    async def _sign_in(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        fields, errors = await self._checked_fields(
            await request.json_body(), self.config.sign_in_fields
        )
        if errors:
            return self._answer(request, field_error(errors))
        body = await self.api_implementation.sign_in_post(
            fields, PUBLIC, self._options(request), context
        )
        return self._answer(request, body)

    async def _email_exists(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        email = request.get_query_param("email")
        if email is None:
            raise BadInputError("Please provide the email as a GET param")
        body = await self.api_implementation.email_exists_get(
            normalise_email(email), PUBLIC, self._options(request), context
        )
        return self._answer(request, body)

    async def _reset_token(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        fields, errors = await self._checked_fields(
            await request.json_body(), self.config.reset_token_fields
        )
        if errors:
            return self._answer(request, field_error(errors))
        body = await self.api_implementation.generate_password_reset_token_post(
            fields, PUBLIC, self._options(request), context
        )
        return self._answer(request, body)

    async def _reset_password(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        payload = await request.json_body()
        token = payload.get("token") if isinstance(payload, dict) else None
        if token is None:
            raise BadInputError("Please provide the password reset token")
        if not isinstance(token, str):
            raise BadInputError("The password reset token must be a string")
        # The link's account, for the screening's context (nothing is used up here).
        pending = await self.app.store.find_token(
            token_hash(token), purpose=PASSWORD_RESET, now_ms=self.app.clock.now_ms()
        )
        fields, errors = await self._checked_fields(
            payload,
            self.config.reset_password_fields,
            sets_password=True,
            email=pending.email_key if pending is not None else None,
        )
        if errors:
            return self._answer(request, field_error(errors))
        body = await self.api_implementation.password_reset_post(
            fields, token, PUBLIC, self._options(request), context
        )
        return self._answer(request, body)
