"""``Bastion``: the object that owns one app's configuration, storage and recipes."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bastion.appinfo import AppInfo, InputAppInfo
from bastion.audit import AUDIT_KEY_SECRET, AuditCallback, Auditor
from bastion.bridge import run_sync
from bastion.clock import Clock, SystemClock
from bastion.errors import ConfigError
from bastion.http.router import ApiRoute
from bastion.http.types import BaseRequest
from bastion.ratelimit import Limit, RateLimiter, client_address
from bastion.runtime import set_current_app
from bastion.storage import Store, open_store

if TYPE_CHECKING:
    from bastion.recipe.session.recipe import SessionRecipe

__all__ = ["DEFAULT_DATABASE_URL", "Bastion", "RecipeInit", "init", "resolve_database_url"]

DEFAULT_DATABASE_URL = "sqlite:///bastion.db"
DATABASE_URL_VARIABLE = "BASTION_DATABASE_URL"
DEFAULT_API_REQUESTS_PER_MINUTE = 300
Framework = Literal["fastapi", "flask", "django"]
Mode = Literal["asgi", "wsgi"]


class Recipe(Protocol):
    recipe_id: str

    def routes(self) -> list[ApiRoute]: ...


class RecipeInit(Protocol):
    """What each ``<recipe>.init(...)`` returns."""

    recipe_id: str

    def build(self, app: Bastion) -> Any: ...


class Bastion:
    """One configured app. ``bastion.init`` creates it and makes it current."""

    def __init__(
        self,
        *,
        app_info: InputAppInfo,
        framework: Framework = "fastapi",
        recipe_list: Sequence[RecipeInit] = (),
        database_url: str | None = None,
        mode: Mode | None = None,
        clock: Clock | None = None,
        store: Store | None = None,
        trusted_proxies: Sequence[str] = (),
        encryption_keys: Sequence[str | bytes] | None = None,
        api_requests_per_minute: int | None = DEFAULT_API_REQUESTS_PER_MINUTE,
        audit_callback: AuditCallback | None = None,
    ) -> None:
        if framework not in ("fastapi", "flask", "django"):
            raise ConfigError("framework must be 'fastapi', 'flask' or 'django'")
        if mode not in (None, "asgi", "wsgi"):
            raise ConfigError("mode must be 'asgi', 'wsgi' or None")
        self.app_info = AppInfo.from_input(app_info)
        self.framework: Framework = framework
        self.mode: Mode = mode or ("asgi" if framework == "fastapi" else "wsgi")
        self.clock: Clock = clock or SystemClock()
        self.trusted_proxies = _parse_networks(trusted_proxies)
        """Proxies whose ``X-Forwarded-For`` is believed; empty (the default) ignores the header."""
        self.store: Store = store or open_store(resolve_database_url(database_url))
        if isinstance(encryption_keys, str | bytes):
            raise ConfigError("encryption_keys must be a list of keys (the first one encrypts)")
        self.encryption_keys: tuple[str | bytes, ...] = tuple(encryption_keys or ())
        """Keys for secrets at rest (:mod:`bastion.core.crypto`), the encrypting key first."""
        if api_requests_per_minute is not None and api_requests_per_minute < 1:
            raise ConfigError("api_requests_per_minute must be at least 1 (or None for no limit)")
        self.api_requests_per_minute = api_requests_per_minute
        """Per client address and endpoint, for every ``/auth`` route (None: no generic limit)."""
        self.limiter = RateLimiter(self.store, self.clock)
        self.recipes: dict[str, Any] = {}
        try:
            self.audit = Auditor(
                clock=self.clock,
                key=run_sync(
                    self.store.get_or_create_secret(AUDIT_KEY_SECRET, secrets.token_bytes(32))
                ),
                trusted_proxies=self.trusted_proxies,
                callback=audit_callback,
            )
            """Where the app's authentication events go (:mod:`bastion.audit`)."""
            self._build_recipes(recipe_list)
        except BaseException:
            if store is None:
                self.store.close()  # ours: do not leave its connections open
            raise

    def _build_recipes(self, recipe_list: Sequence[RecipeInit]) -> None:
        from bastion.recipe.session.recipe import session_init

        inits = list(recipe_list)
        ids = [i.recipe_id for i in inits]
        if len(set(ids)) != len(ids):
            raise ConfigError("each recipe may appear only once in recipe_list")
        session = next((i for i in inits if i.recipe_id == "session"), None) or session_init()
        # The session recipe first: others register their claims and validators with it.
        self.session_recipe: SessionRecipe = session.build(self)
        self.recipes["session"] = self.session_recipe
        for recipe_init in inits:
            if recipe_init.recipe_id != "session":
                self.recipes[recipe_init.recipe_id] = recipe_init.build(self)
        for recipe in self.recipes.values():
            # Checks that need every recipe built (TOTP requires the MFA recipe, say).
            on_app_ready = getattr(recipe, "on_app_ready", None)
            if on_app_ready is not None:
                on_app_ready()
        self.routes: list[ApiRoute] = [r for rec in self.recipes.values() for r in rec.routes()]

    async def check_api_rate_limit(self, request: BaseRequest, endpoint: str) -> None:
        """Count one request to ``endpoint`` from the request's client; 429 past the limit."""
        if self.api_requests_per_minute is None:
            return
        limit = Limit(
            name=f"api {endpoint}", max_attempts=self.api_requests_per_minute, window_s=60
        )
        client = client_address(request, self.trusted_proxies) or "unknown"
        verdict = await self.limiter.hit(limit, client)
        if not verdict.allowed:
            raise verdict.error()

    def close(self) -> None:
        """Release storage connections."""
        self.store.close()


def init(
    app_info: InputAppInfo,
    framework: Framework = "fastapi",
    recipe_list: Sequence[RecipeInit] = (),
    database_url: str | None = None,
    mode: Mode | None = None,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    supertokens_config: object | None = None,
    telemetry: bool | None = None,
    debug: bool | None = None,
    trusted_proxies: Sequence[str] = (),
    encryption_keys: Sequence[str | bytes] | None = None,
    api_requests_per_minute: int | None = DEFAULT_API_REQUESTS_PER_MINUTE,
    audit_callback: AuditCallback | None = None,
) -> Bastion:
    """Configure bastion for this process and return the app.

    Args:
        app_info: where the API and the website are served.
        framework: ``"fastapi"``, ``"flask"`` or ``"django"``.
        recipe_list: the recipes' ``init(...)`` results; the session recipe is added with its
            defaults if absent.
        database_url: ``sqlite:///file.db`` or ``postgresql://user:password@host/db`` (pool
            settings as URL parameters, see :mod:`bastion.storage.postgres`). When None,
            ``$BASTION_DATABASE_URL``, else ``sqlite:///bastion.db`` in the working directory.
            An unreachable database raises :class:`~bastion.errors.StorageUnavailableError`
            naming the URL with its password masked.
        mode: ``"asgi"`` or ``"wsgi"``; defaults to ASGI for FastAPI and WSGI otherwise.
        clock: the time source (tests pass a :class:`~bastion.clock.ManualClock`).
        store: a ready storage backend, instead of ``database_url``.
        supertokens_config: accepted for compatibility and ignored: bastion has no core server.
        telemetry: ignored; bastion sends nothing anywhere.
        debug: when True, bastion's logger is set to DEBUG.
        trusted_proxies: addresses or networks (``"10.0.0.0/8"``) of the reverse proxies in
            front of the app. Only a request arriving from one of them has its client address
            taken from ``X-Forwarded-For``; by default the header is ignored.
        encryption_keys: 32-byte keys (bytes, hex or base64 text) that encrypt secrets kept
            in the database, such as TOTP seeds. The first one encrypts, all of them decrypt,
            so a new key goes first and old ones stay until re-encryption has run. Without
            any, a key is generated and stored in the database itself (and a warning logged).
        api_requests_per_minute: how many requests one client address may send to each
            ``/auth`` endpoint per minute (429 beyond). Endpoints with a tighter limit of their
            own (sign-in per account, TOTP per user) keep it too. None removes the generic one.
        audit_callback: called with every :class:`~bastion.audit.AuditEvent` (sign-ins,
            factors, resets, sessions ...), besides the ``bastion.audit`` logger. A plain
            function, or a coroutine function under ASGI; an exception it raises is logged and
            does not fail the request.

    Calling ``init`` again replaces the current app (and closes the previous one's storage).
    """
    from bastion import runtime

    if debug:
        import logging

        logging.getLogger("bastion").setLevel(logging.DEBUG)
    app = Bastion(
        app_info=app_info,
        framework=framework,
        recipe_list=recipe_list,
        database_url=database_url,
        mode=mode,
        clock=clock,
        store=store,
        trusted_proxies=trusted_proxies,
        encryption_keys=encryption_keys,
        api_requests_per_minute=api_requests_per_minute,
        audit_callback=audit_callback,
    )
    previous = runtime._current
    set_current_app(app)
    if previous is not None and previous.store is not app.store:
        previous.close()
    return app


def resolve_database_url(database_url: str | None) -> str:
    """``database_url`` if given, else ``$BASTION_DATABASE_URL``, else the SQLite default.

    The environment is the usual way to point every process of a deployment at one database.
    """
    return database_url or os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL


def _parse_networks(
    values: Sequence[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if isinstance(values, str):
        raise ConfigError("trusted_proxies must be a list of addresses or networks")
    try:
        return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)
    except (ValueError, AttributeError) as exc:
        raise ConfigError(f"trusted_proxies: {exc}") from exc
