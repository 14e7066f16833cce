"""The passwordless recipe: configuration, the code key, delivery and the MFA factor contract."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from bastion.email import ConsoleBackend, deliver
from bastion.http.router import ApiRoute
from bastion.ratelimit import RateLimiter
from bastion.recipe.passwordless.api import APIImplementation
from bastion.recipe.passwordless.config import OverrideConfig, PasswordlessConfig
from bastion.recipe.passwordless.contact import (
    RECIPE_ID,
    Contact,
    phone_numbers,
    real_emails,
)
from bastion.recipe.passwordless.implementation import RecipeImplementation
from bastion.recipe.passwordless.interfaces import (
    APIInterface,
    CreateCodeOkResult,
    LoginMessage,
    Purpose,
    RecipeInterface,
)
from bastion.recipe.passwordless.sms import ConsoleSmsBackend, deliver_sms

if TYPE_CHECKING:
    from bastion.app import Bastion

__all__ = ["PUBLIC", "RECIPE_ID", "PasswordlessRecipe", "PasswordlessRecipeInit"]

PUBLIC = "public"
CODE_KEY_NAME = "passwordless-code-key"

logger = logging.getLogger("bastion")


@dataclass(slots=True, kw_only=True)
class PasswordlessRecipeInit:
    """What ``passwordless.init(...)`` returns; ``bastion.init`` builds the recipe from it."""

    config: PasswordlessConfig
    override: OverrideConfig | None

    recipe_id: str = RECIPE_ID

    def build(self, app: Bastion) -> PasswordlessRecipe:
        return PasswordlessRecipe(app, self)


class PasswordlessRecipe:
    """Owns the config, the (overridable) implementations and the passwordless routes."""

    recipe_id = RECIPE_ID

    def __init__(self, app: Bastion, init: PasswordlessRecipeInit) -> None:
        self.app = app
        self.config = init.config
        self.factor_ids: tuple[str, ...] = tuple(self.config.factor_ids())
        """The MFA factors offered (read by the MFA recipe)."""
        self.limiter = RateLimiter(app.store, app.clock)
        throttling = self.config.throttling
        self.send_account_limit = throttling.account_limit()
        self.send_client_limit = throttling.client_limit()
        self.wrong_code_limit = throttling.wrong_code_limit()
        self._code_key: bytes | None = None
        implementation: RecipeInterface = RecipeImplementation(self)
        apis: APIInterface = APIImplementation()
        if init.override is not None and init.override.functions is not None:
            implementation = init.override.functions(implementation)
        if init.override is not None and init.override.apis is not None:
            apis = init.override.apis(apis)
        self.recipe_implementation = implementation
        self.api_implementation = apis
        if not app.app_info.is_local():
            if self.config.uses_email and isinstance(self.config.email_delivery, ConsoleBackend):
                logger.warning(
                    "passwordless: codes go to the console email backend, which withholds them "
                    "outside localhost; pass email_delivery=SMTPBackend(...)"
                )
            if self.config.uses_phone and isinstance(self.config.sms_delivery, ConsoleSmsBackend):
                logger.warning("passwordless: no SMS provider configured (sms_delivery=...)")

    async def code_key(self) -> bytes:
        """The server key of the code hashes, made once and kept in the database."""
        if self._code_key is None:
            self._code_key = await self.app.store.get_or_create_secret(
                CODE_KEY_NAME, secrets.token_bytes(32)
            )
        return self._code_key

    def mfa(self) -> Any | None:
        """The MFA recipe, if the app has one."""
        return self.app.recipes.get("multifactorauth")

    # -- delivery ---------------------------------------------------------------------------------

    def magic_link(self, link_code: str, pre_auth_session_id: str, tenant_id: str) -> str:
        """The website's verify page with the link code in the fragment (never sent to servers
        by browsers), from the configured domain, never the request's Host."""
        info = self.app.app_info
        query = urlencode({"preAuthSessionId": pre_auth_session_id, "tenantId": tenant_id})
        return f"{info.website_domain}{info.website_base_path}/verify?{query}#{link_code}"

    async def send_code(
        self,
        created: CreateCodeOkResult,
        contact: Contact,
        purpose: Purpose,
        tenant_id: str,
        user_context: dict[str, Any],
    ) -> None:
        """Email or text the code and/or link, as the flow type says."""
        config = self.config
        message = LoginMessage(
            contact=contact,
            user_input_code=created.user_input_code if config.sends_code else None,
            url_with_link_code=(
                self.magic_link(created.link_code, created.pre_auth_session_id, tenant_id)
                if config.sends_link
                else None
            ),
            code_life_time=created.code_life_time,
            pre_auth_session_id=created.pre_auth_session_id,
            tenant_id=tenant_id,
            purpose=purpose,
        )
        impl = self.recipe_implementation
        if contact.email is not None:
            email = await impl.build_login_email(message, user_context)
            await deliver(config.email_delivery, email)
        else:
            sms = await impl.build_login_sms(message, user_context)
            await deliver_sms(config.sms_delivery, sms)

    # -- the MFA recipe's contract --------------------------------------------------------------

    async def get_factors_set_up_for_user(
        self, user_id: str, user_context: dict[str, Any]
    ) -> list[str]:
        """The email factors once the user has a real email; the phone ones with a phone."""
        user = await self.app.store.get_user(user_id)
        has = {"email": bool(real_emails(user)), "phone": bool(phone_numbers(user))}
        return [f for f in self.factor_ids if has[f.split("-", 1)[1]]]

    async def get_emails_for_factors(
        self, user_id: str, user_context: dict[str, Any]
    ) -> dict[str, list[str]]:
        """``{"otp-email": [the user's real emails], …}`` for the email factors offered."""
        emails = real_emails(await self.app.store.get_user(user_id))
        return {f: list(emails) for f in self.factor_ids if f.endswith("-email")}

    async def get_phone_numbers_for_factors(
        self, user_id: str, user_context: dict[str, Any]
    ) -> dict[str, list[str]]:
        numbers = phone_numbers(await self.app.store.get_user(user_id))
        return {f: list(numbers) for f in self.factor_ids if f.endswith("-phone")}

    async def delete_user_data(self, user_id: str, user_context: dict[str, Any]) -> None:
        """Pending second-factor and setup codes of the user go with it."""
        await self.app.store.delete_passwordless_devices(user_id=user_id)

    # -- routes ---------------------------------------------------------------------------------

    def routes(self) -> list[ApiRoute]:
        from bastion.recipe.passwordless.routes import routes

        return routes(self)
