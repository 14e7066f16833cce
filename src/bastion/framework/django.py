"""The Django adapter: one middleware for WSGI and ASGI deployments, and the request wrapper.

Add ``"bastion.framework.django.middleware"`` to ``MIDDLEWARE``. The middleware is both
sync- and async-capable, so Django hands it the kind of handler its stack has: under ASGI it is a
coroutine function and awaits bastion's coroutines; under WSGI (or below a sync-only
middleware) it drives the very same coroutine with :func:`bastion.bridge.run_sync`, without an
event loop.

It serves the ``/auth`` API, answers bastion's errors raised by views (``process_exception``,
which Django always calls synchronously) and adds what a request queued (new tokens, cleared
cookies) to the view's response. ``Set-Cookie`` lines are bastion's own strings, carried by a
:class:`http.cookies.Morsel` that prints them unchanged, so they are byte-identical to the
other frameworks' under both Django handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import Morsel
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.signals import got_request_exception
from django.http import HttpResponse as DjangoHttpResponse

from bastion.bridge import run_sync
from bastion.errors import BadInputError, BastionError, ConfigError
from bastion.http.responses import error_response
from bastion.http.router import handle_api_request
from bastion.http.types import (
    MAX_BODY_BYTES,
    BaseRequest,
    HttpResponse,
    RequestState,
    ResponseChanges,
    apply_changes,
)
from bastion.runtime import current_app

__all__ = ["BastionMiddleware", "DjangoRequest", "middleware", "state_of_request"]

STATE_ATTR = "_bastion_state"
# Set on responses bastion produced itself: their changes are already in them.
ANSWERED_ATTR = "_bastion_answered"
# Set when the request failed with an unhandled exception: its 500 gets no session changes,
# as with the ASGI middleware, where the exception passes it by.
FAILED_ATTR = "_bastion_failed"


def state_of_request(request: Any) -> RequestState:
    """The request's :class:`RequestState`, which the middleware attached to it."""
    state = getattr(request, STATE_ATTR, None)
    if not isinstance(state, RequestState):
        raise ConfigError(
            "bastion's middleware is not installed: add 'bastion.framework.django.middleware' "
            "to MIDDLEWARE"
        )
    return state


class DjangoRequest(BaseRequest):
    """A Django ``HttpRequest`` (WSGI or ASGI) as a :class:`BaseRequest`."""

    __slots__ = ("request", "state")

    def __init__(self, request: Any) -> None:
        self.request = request
        self.state = state_of_request(request)

    @property
    def original(self) -> Any:
        return self.request

    def method(self) -> str:
        return str(self.request.method).upper()

    def path(self) -> str:
        return str(self.request.path)

    def get_header(self, name: str) -> str | None:
        value = self.request.headers.get(name)
        return None if value is None else str(value)

    def get_query_param(self, name: str) -> str | None:
        value = self.request.GET.get(name)
        return None if value is None else str(value)

    def client_host(self) -> str | None:
        remote = self.request.META.get("REMOTE_ADDR")
        return str(remote) if remote else None

    async def body_bytes(self) -> bytes:
        try:
            length = int(self.request.META.get("CONTENT_LENGTH") or 0)
        except ValueError as exc:
            raise BadInputError("the Content-Length header is not a number") from exc
        if length > MAX_BODY_BYTES:
            raise BadInputError(f"the request body is larger than {MAX_BODY_BYTES} bytes")
        # Django caches the body on the request, so the view can still read it.
        return bytes(self.request.body)


class SetCookieLine(Morsel[str]):
    """A cookie whose ``Set-Cookie`` value is a ready line (Django prints ``output(header="")``)."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line

    def OutputString(self, attrs: Any = None) -> str:  # noqa: N802 - Morsel's API
        return self.line

    def output(self, attrs: Any = None, header: str = "Set-Cookie:") -> str:
        return f"{header} {self.line}" if header else self.line


def to_django_response(response: HttpResponse) -> DjangoHttpResponse:
    """A Django response carrying bastion's answer, marked so changes are not applied twice."""
    answer = DjangoHttpResponse(
        response.body_bytes(), status=response.status, content_type=response.content_type
    )
    _set_headers(answer, response.header_items())
    setattr(answer, ANSWERED_ATTR, True)
    return answer


def apply_to_django_response(response: Any, changes: ResponseChanges) -> None:
    """Merge ``changes`` into a Django response (headers and ``Set-Cookie`` lines)."""
    existing = [(str(k), str(v)) for k, v in response.items()]
    merged = apply_changes(existing, changes)
    keep = {name.lower() for name, _ in merged}
    for name, _ in existing:
        if name.lower() not in keep:
            del response[name]
    _set_headers(response, merged)


def _set_headers(response: Any, items: list[tuple[str, str]]) -> None:
    for name, value in items:
        if name.lower() == "set-cookie":
            # Keyed by the whole line: the app's own cookies of the same name stay, as with
            # the other frameworks, and two of bastion's never collapse into one.
            response.cookies[f"bastion:{value}"] = SetCookieLine(value)
        else:
            response[name] = value


class BastionMiddleware:
    """Django middleware (sync and async); ``middleware`` is its name for ``MIDDLEWARE``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self._handle(request)
        return run_sync(self._handle(request))

    async def _handle(self, request: Any) -> Any:
        bastion = current_app()
        state = RequestState()
        setattr(request, STATE_ATTR, state)
        try:
            answer = await handle_api_request(bastion, DjangoRequest(request))
        except BadInputError as error:
            answer = HttpResponse(400, {"message": error.message})
        if answer is not None:
            return to_django_response(answer)
        if self.async_mode:
            response = await self.get_response(request)
        else:
            # A sync handler: calling it cannot suspend this coroutine.
            response = self.get_response(request)
        if (
            state.changes
            and not getattr(response, ANSWERED_ATTR, False)
            and not getattr(request, FAILED_ATTR, False)
        ):
            apply_to_django_response(response, state.changes)
        return response

    def process_exception(self, request: Any, exception: Exception) -> DjangoHttpResponse | None:
        """Answer bastion's errors raised by a view (401, 403, 400); leave others to Django."""
        if not isinstance(exception, BastionError) or not isinstance(
            getattr(request, STATE_ATTR, None), RequestState
        ):
            return None
        recipe = current_app().session_recipe
        answer = run_sync(
            error_response(exception, DjangoRequest(request), recipe.config, recipe.error_handlers)
        )
        return None if answer is None else to_django_response(answer)


middleware = BastionMiddleware


def _mark_failed(sender: Any, request: Any = None, **_extra: Any) -> None:
    if request is not None:
        setattr(request, FAILED_ATTR, True)


got_request_exception.connect(_mark_failed, dispatch_uid="bastion.framework.django")
