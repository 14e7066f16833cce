"""The email-verification recipe: the ``st-ev`` claim, its validator and its routes (spec 7.6)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from bastion.audit import EventType, Outcome
from bastion.bridge import maybe_await
from bastion.email import EmailBackend, deliver, render
from bastion.email.backends import ConsoleBackend
from bastion.errors import BadInputError, ConfigError
from bastion.http.responses import json_response
from bastion.http.router import ApiRoute
from bastion.http.types import BaseRequest, HttpResponse
from bastion.ratelimit import Limit, RateLimiter
from bastion.recipe.emailverification.claims import EmailVerificationClaim
from bastion.sessions.request_flow import get_session_from_request, user_context_for
from bastion.users.emails import email_key
from bastion.users.model import User
from bastion.users.tokens import EMAIL_VERIFICATION, describe_lifetime, new_token, token_hash

if TYPE_CHECKING:
    from bastion.app import Bastion
    from bastion.sessions.container import SessionContainer

__all__ = ["EmailVerificationRecipe", "EmailVerificationRecipeInit", "Mode", "RECIPE_ID"]

RECIPE_ID = "emailverification"
PUBLIC = "public"
Mode = Literal["REQUIRED", "OPTIONAL"]
EmailGetter = Callable[[str, dict[str, Any]], "Awaitable[str | None] | str | None"]

SEND_LIMIT = Limit(name="email-verification-email", max_attempts=5, window_s=3600)
"""Verification emails per user and hour; beyond it the endpoint answers OK and sends nothing."""


@dataclass(slots=True, kw_only=True)
class EmailVerificationRecipeInit:
    """What ``emailverification.init(...)`` returns."""

    mode: Mode
    email_delivery: EmailBackend | None
    get_email_for_recipe_user_id: EmailGetter | None
    token_lifetime_s: int

    recipe_id: str = RECIPE_ID

    def build(self, app: Bastion) -> EmailVerificationRecipe:
        return EmailVerificationRecipe(app, self)


def _no_claim_checks(validators: Any, session: Any, user_context: Any) -> list[Any]:
    return []


class EmailVerificationRecipe:
    """Adds ``st-ev`` to new sessions (and, in REQUIRED mode, its validator to every
    ``verify_session``), and serves the verification endpoints."""

    recipe_id = RECIPE_ID

    def __init__(self, app: Bastion, init: EmailVerificationRecipeInit) -> None:
        if init.mode not in ("REQUIRED", "OPTIONAL"):
            raise ConfigError("emailverification mode must be 'REQUIRED' or 'OPTIONAL'")
        if init.token_lifetime_s < 60:
            raise ConfigError("token_lifetime_s must be at least 60")
        self.app = app
        self.mode: Mode = init.mode
        self.email_delivery: EmailBackend = init.email_delivery or ConsoleBackend()
        self.get_email_for_recipe_user_id = init.get_email_for_recipe_user_id
        self.token_lifetime_s = init.token_lifetime_s
        self.limiter = RateLimiter(app.store, app.clock)
        app.session_recipe.add_claim_from_other_recipe(EmailVerificationClaim)
        if self.mode == "REQUIRED":
            app.session_recipe.add_claim_validator_from_other_recipe(
                EmailVerificationClaim.validators.is_verified()
            )

    # -- functions ------------------------------------------------------------------------------

    async def email_of(self, user_id: str, user_context: dict[str, Any]) -> str | None:
        """The email to verify for ``user_id``: the configured getter's, else the user's."""
        if self.get_email_for_recipe_user_id is not None:
            found: str | None = await maybe_await(
                self.get_email_for_recipe_user_id(user_id, user_context)
            )
            return found
        record = await self.app.store.get_user(user_id)
        if record is None:
            return None
        for method in record.login_methods:
            if method.recipe_user_id == user_id and method.email is not None:
                return method.email
        return next((m.email for m in record.login_methods if m.email is not None), None)

    async def is_email_verified(
        self, user_id: str, user_context: dict[str, Any], email: str | None = None
    ) -> bool:
        """Whether the user's email is verified; True for users without an email."""
        email = email if email is not None else await self.email_of(user_id, user_context)
        if email is None:
            return True
        return await self.app.store.is_email_verified(user_id, email_key(email))

    async def create_token(self, user_id: str, email: str) -> str:
        """A single-use verification token for ``(user_id, email)`` (only its hash is stored)."""
        token, digest = new_token()
        now = self.app.clock.now_ms()
        await self.app.store.add_token(
            digest,
            purpose=EMAIL_VERIFICATION,
            user_id=user_id,
            email_key=email_key(email),
            expires_at_ms=now + self.token_lifetime_s * 1000,
            now_ms=now,
        )
        return token

    async def verify_token(self, token: str, user_context: dict[str, Any]) -> str | None:
        """Use up ``token`` and mark its email verified; the user id, or None if invalid.

        A token issued for an email the user no longer has is invalid.
        """
        record = await self.app.store.consume_token(
            token_hash(token), purpose=EMAIL_VERIFICATION, now_ms=self.app.clock.now_ms()
        )
        if record is None:
            return None
        current = await self.email_of(record.user_id, user_context)
        if current is None or email_key(current) != record.email_key:
            return None
        await self.app.store.set_email_verified(record.user_id, record.email_key, True)
        await self.app.audit.emit(
            EventType.EMAIL_VERIFIED,
            Outcome.SUCCESS,
            user_context=user_context,
            user_id=record.user_id,
        )
        return record.user_id

    def verification_link(self, token: str, tenant_id: str) -> str:
        """The website's verification page, from the configured domain."""
        info = self.app.app_info
        query = urlencode({"token": token, "tenantId": tenant_id})
        return f"{info.website_domain}{info.website_base_path}/verify-email?{query}"

    async def send_verification_email(self, user_id: str, email: str) -> None:
        """Create a token and email the link (at most :data:`SEND_LIMIT` per user and hour)."""
        verdict = await self.limiter.hit(SEND_LIMIT, user_id)
        if not verdict.allowed:
            return
        token = await self.create_token(user_id, email)
        app_name = self.app.app_info.app_name
        message = render(
            "email-verification",
            to=email,
            subject=f"Verify your {app_name} email",
            app_name=app_name,
            link=self.verification_link(token, PUBLIC),
            valid_for=describe_lifetime(self.token_lifetime_s),
        )
        await deliver(self.email_delivery, message)

    async def delete_user_data(self, user_id: str, user_context: dict[str, Any]) -> None:
        """Nothing of its own: verified emails and tokens go with the user's rows."""

    # -- routes ---------------------------------------------------------------------------------

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("POST", "/user/email/verify/token", RECIPE_ID, self._send_token),
            ApiRoute("POST", "/user/email/verify", RECIPE_ID, self._verify),
            ApiRoute("GET", "/user/email/verify", RECIPE_ID, self._check),
        ]

    async def _session(
        self, request: BaseRequest, context: dict[str, Any], *, required: bool
    ) -> SessionContainer | None:
        return await get_session_from_request(
            request,
            session_required=required,
            override_global_claim_validators=_no_claim_checks,
            user_context=context,
        )

    def _answer(self, request: BaseRequest, body: dict[str, Any]) -> HttpResponse:
        return json_response(200, body, request.state.changes)

    async def _send_token(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        await request.json_body()  # read (and check) whatever body came
        session = await self._session(request, context, required=True)
        if session is None:  # pragma: no cover - required=True raises instead
            raise BadInputError("no session")
        user_id = session.get_recipe_user_id()
        email = await self.email_of(user_id, context)
        if email is None or await self.is_email_verified(user_id, context, email):
            await session.fetch_and_set_claim(EmailVerificationClaim, context)
            return self._answer(request, {"status": "EMAIL_ALREADY_VERIFIED_ERROR"})
        await self.send_verification_email(user_id, email)
        return self._answer(request, {"status": "OK"})

    async def _verify(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        body = await request.json_body()
        token = body.get("token") if isinstance(body, dict) else None
        if token is None:
            raise BadInputError("Please provide the email verification token")
        if not isinstance(token, str):
            raise BadInputError("The email verification token must be a string")
        # The session first: a 401 (try refresh) must come before the token is used up.
        session = await self._session(request, context, required=False)
        user_id = await self.verify_token(token, context)
        if user_id is None:
            return self._answer(request, {"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"})
        if session is not None and session.get_recipe_user_id() == user_id:
            await session.fetch_and_set_claim(EmailVerificationClaim, context)
        answer: dict[str, Any] = {"status": "OK"}
        record = await self.app.store.get_user(user_id)
        if record is not None:
            answer["user"] = User.from_record(record).to_json()
        return self._answer(request, answer)

    async def _check(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        session = await self._session(request, context, required=True)
        if session is None:  # pragma: no cover - required=True raises instead
            raise BadInputError("no session")
        await session.fetch_and_set_claim(EmailVerificationClaim, context)
        verified = await session.get_claim_value(EmailVerificationClaim, context)
        return self._answer(request, {"status": "OK", "isVerified": bool(verified)})
