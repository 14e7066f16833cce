"""Routing of the ``/auth`` API: which recipe answers which method and path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bastion.errors import BastionError
from bastion.http.responses import error_response
from bastion.http.types import BaseRequest, HttpResponse

if TYPE_CHECKING:
    from bastion.app import Bastion

__all__ = ["ApiRoute", "handle_api_request"]

ApiHandler = Callable[[BaseRequest], Awaitable[HttpResponse]]


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One endpoint: ``path`` is relative to the API base path (``/session/refresh``)."""

    method: str
    path: str
    recipe_id: str
    handler: ApiHandler
    disabled: Callable[[], bool] = lambda: False
    own_rate_limit: bool = False
    """The recipe limits this route more tightly itself (per user, with a hard lock), so the
    generic per-client limit is skipped."""


def _relative_path(app: Bastion, path: str) -> str | None:
    base = app.app_info.api_gateway_path + app.app_info.api_base_path
    if base and not (path == base or path.startswith(base + "/")):
        return None
    rest = path[len(base) :].rstrip("/")
    return rest or "/"


def find_route(app: Bastion, method: str, path: str, rid: str | None = None) -> ApiRoute | None:
    relative = _relative_path(app, path)
    if relative is None:
        return None
    matches = [
        r for r in app.routes if r.path == relative and r.method == method and not r.disabled()
    ]
    if len(matches) > 1 and rid:
        # Two recipes serve this path (e.g. an "email exists" check): the rid header decides.
        matches = [r for r in matches if r.recipe_id == rid] or matches
    return matches[0] if matches else None


async def handle_api_request(app: Bastion, request: BaseRequest) -> HttpResponse | None:
    """Answer ``request`` if it is one of bastion's API routes; None lets the app handle it."""
    route = find_route(app, request.method(), request.path(), request.get_header("rid"))
    if route is None:
        return None
    try:
        if not route.own_rate_limit:
            await app.check_api_rate_limit(request, f"{route.method} {route.path}")
        return await route.handler(request)
    except BastionError as error:
        answered = await error_response(
            error, request, app.session_recipe.config, app.session_recipe.error_handlers
        )
        if answered is None:
            raise
        return answered
