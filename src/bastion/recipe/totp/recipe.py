"""The TOTP recipe (rid ``totp``): devices, codes and their endpoints (spec 7.5, 9.4).

Endpoints, all needing a session (global claims not checked):

- ``POST {b}/totp/device`` ``{"deviceName"?}`` → ``OK {deviceName, secret, qrCodeString,
  qrCodeSvg}`` | ``DEVICE_ALREADY_EXISTS_ERROR``. ``qrCodeSvg`` (bastion's addition, present
  when the ``qr`` extra, segno, is installed) is the QR code of ``qrCodeString`` as inline SVG
  markup, so a page can show it without a QR library; the SDKs ignore it.
- ``GET {b}/totp/device/list`` → ``OK {devices: [{name, period, skew, verified, algorithm,
  digits}]}``.
- ``POST {b}/totp/device/remove`` ``{"deviceName"}`` → ``OK {didDeviceExist}``.
- ``POST {b}/totp/device/verify`` ``{"deviceName", "totp"}`` → ``OK {wasAlreadyVerified}`` |
  ``UNKNOWN_DEVICE_ERROR`` | ``INVALID_TOTP_ERROR`` | ``LIMIT_REACHED_ERROR``.
- ``POST {b}/totp/verify`` ``{"totp"}`` → ``OK`` | ``UNKNOWN_USER_ID_ERROR`` |
  ``INVALID_TOTP_ERROR`` | ``LIMIT_REACHED_ERROR``.

Missing or mistyped fields answer 400 ``{"message": …}``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bastion.errors import BadInputError, ConfigError
from bastion.http.responses import json_response
from bastion.http.router import ApiRoute
from bastion.http.types import BaseRequest, HttpResponse
from bastion.recipe.multifactorauth.api import claims_off_session, json_object
from bastion.recipe.totp.config import TOTPConfig
from bastion.recipe.totp.encryption import secret_box_for
from bastion.recipe.totp.interfaces import APIInterface, APIOptions, RecipeInterface
from bastion.sessions.request_flow import user_context_for

if TYPE_CHECKING:
    from bastion.app import Bastion
    from bastion.recipe.multifactorauth.recipe import MultiFactorAuthRecipe

__all__ = ["TOTPRecipe", "TOTPRecipeInit"]

logger = logging.getLogger("bastion")
RECIPE_ID = "totp"
MAX_DEVICE_NAME = 128


class TOTPRecipeInit:
    """What ``totp.init(...)`` returns; ``bastion.init`` builds it."""

    recipe_id = RECIPE_ID

    def __init__(self, config: TOTPConfig) -> None:
        self.config = config

    def build(self, app: Bastion) -> TOTPRecipe:
        return TOTPRecipe(app, self.config)


class TOTPRecipe:
    """Owns the TOTP config, the sealing keys and the ``/totp/*`` routes."""

    recipe_id = RECIPE_ID
    factor_ids = ("totp",)

    def __init__(self, app: Bastion, config: TOTPConfig) -> None:
        self.app = app
        self.config = config
        self.issuer = config.issuer or app.app_info.app_name
        self.secret_box = secret_box_for(app)
        implementation = RecipeInterface(self)
        apis = APIInterface()
        if config.override is not None and config.override.functions is not None:
            implementation = config.override.functions(implementation)
        if config.override is not None and config.override.apis is not None:
            apis = config.override.apis(apis)
        self.recipe_implementation = implementation
        self.api_implementation = apis

    def on_app_ready(self) -> None:
        if "multifactorauth" not in self.app.recipes:
            raise ConfigError(
                "the totp recipe needs the multifactorauth recipe: add multifactorauth.init() "
                "to recipe_list"
            )

    def mfa(self) -> MultiFactorAuthRecipe:
        recipe: MultiFactorAuthRecipe = self.app.recipes["multifactorauth"]
        return recipe

    # -- the MFA factor contract ---------------------------------------------------------------

    async def get_factors_set_up_for_user(
        self, user_id: str, user_context: dict[str, Any]
    ) -> list[str]:
        """``["totp"]`` once the user has a verified device."""
        devices = await self.app.store.list_totp_devices(user_id)
        return ["totp"] if any(d.verified for d in devices) else []

    # -- QR code -----------------------------------------------------------------------------------

    def qr_svg(self, uri: str) -> str | None:
        """The QR code of ``uri`` as inline SVG, or None without the ``qr`` extra (segno)."""
        try:
            import segno
        except ImportError:  # pragma: no cover - depends on the installed extras
            logger.debug("segno is not installed: no qrCodeSvg (pip install 'bastion-auth[qr]')")
            return None
        svg: str = segno.make(uri, error="m", micro=False).svg_inline(scale=4, border=4)
        return svg

    # -- routes ------------------------------------------------------------------------------------

    def routes(self) -> list[ApiRoute]:
        apis = self.api_implementation
        return [
            ApiRoute(
                "POST",
                "/totp/device",
                RECIPE_ID,
                self._create,
                lambda: apis.disable_create_device_post,
            ),
            ApiRoute(
                "GET",
                "/totp/device/list",
                RECIPE_ID,
                self._list,
                lambda: apis.disable_list_devices_get,
            ),
            ApiRoute(
                "POST",
                "/totp/device/remove",
                RECIPE_ID,
                self._remove,
                lambda: apis.disable_remove_device_post,
            ),
            ApiRoute(
                "POST",
                "/totp/device/verify",
                RECIPE_ID,
                self._verify_device,
                lambda: apis.disable_verify_device_post,
                own_rate_limit=True,
            ),
            ApiRoute(
                "POST",
                "/totp/verify",
                RECIPE_ID,
                self._verify,
                lambda: apis.disable_verify_totp_post,
                own_rate_limit=True,
            ),
        ]

    def _options(self, request: BaseRequest) -> APIOptions:
        return APIOptions(request, self, self.recipe_implementation)

    async def _create(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        body = await json_object(request)
        name = body.get("deviceName")
        if name is not None:
            name = _device_name(name)
        session = await claims_off_session(request, context, self.mfa())
        reply = await self.api_implementation.create_device_post(
            name or None, self._options(request), session, context
        )
        return json_response(200, reply, request.state.changes)

    async def _list(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        session = await claims_off_session(request, context, self.mfa())
        reply = await self.api_implementation.list_devices_get(
            self._options(request), session, context
        )
        return json_response(200, reply, request.state.changes)

    async def _remove(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        body = await json_object(request)
        name = _device_name(body.get("deviceName"), required=True)
        session = await claims_off_session(request, context, self.mfa())
        reply = await self.api_implementation.remove_device_post(
            name, self._options(request), session, context
        )
        return json_response(200, reply, request.state.changes)

    async def _verify_device(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        body = await json_object(request)
        name = _device_name(body.get("deviceName"), required=True)
        code = _code(body.get("totp"))
        session = await claims_off_session(request, context, self.mfa())
        reply = await self.api_implementation.verify_device_post(
            name, code, self._options(request), session, context
        )
        return json_response(200, reply, request.state.changes)

    async def _verify(self, request: BaseRequest) -> HttpResponse:
        context = user_context_for(request, None)
        body = await json_object(request)
        code = _code(body.get("totp"))
        session = await claims_off_session(request, context, self.mfa())
        reply = await self.api_implementation.verify_totp_post(
            code, self._options(request), session, context
        )
        return json_response(200, reply, request.state.changes)


def _device_name(value: Any, *, required: bool = False) -> str:
    """A device name from the body: a string, trimmed; empty means "pick one" unless required."""
    if not isinstance(value, str):
        raise BadInputError("deviceName must be a string")
    name = value.strip()
    if required and not name:
        raise BadInputError("deviceName must not be empty")
    if len(name) > MAX_DEVICE_NAME:
        raise BadInputError(f"deviceName must be at most {MAX_DEVICE_NAME} characters")
    return name


def _code(value: Any) -> str:
    """The ``totp`` field: a string (a wrong one is a failed attempt, not a 400)."""
    if not isinstance(value, str):
        raise BadInputError("totp must be a string")
    return value


def totp_init(config: TOTPConfig | None = None) -> TOTPRecipeInit:
    """Configure TOTP (pass the result in ``bastion.init(recipe_list=[...])``).

    The TOTP recipe needs the multifactorauth recipe in the same list.
    """
    return TOTPRecipeInit(config or TOTPConfig())
