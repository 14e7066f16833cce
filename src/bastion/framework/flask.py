"""The Flask adapter: ``Middleware(app)`` and the request wrapper.

Flask is synchronous, so the middleware drives bastion's coroutines with
:func:`bastion.bridge.run_sync` (no event loop). It serves the ``/auth`` API in
``before_request``, answers bastion's errors in an error handler, and adds what a request queued
(new tokens, cleared cookies) to the app's own response in ``after_request``. The per-request
:class:`~bastion.http.types.RequestState` lives on :data:`flask.g`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, got_request_exception
from flask import request as current_request

from bastion.bridge import run_sync
from bastion.errors import BadInputError, BastionError, ConfigError
from bastion.http.responses import error_response
from bastion.http.router import find_route, handle_api_request
from bastion.http.types import (
    MAX_BODY_BYTES,
    BaseRequest,
    HttpResponse,
    RequestState,
    ResponseChanges,
    apply_changes,
)
from bastion.runtime import current_app

__all__ = ["FlaskRequest", "Middleware", "state_of_g"]

STATE_KEY = "_bastion_state"
SESSION_KEY = "supertokens"
# Set on responses bastion produced itself: their changes are already in them.
ANSWERED_ATTR = "_bastion_answered"
# Set when the request failed with an unhandled exception: its 500 gets no session changes,
# as with the ASGI middleware, where the exception passes it by.
FAILED_KEY = "_bastion_failed"


def state_of_g() -> RequestState:
    """The current request's :class:`RequestState`, which the middleware put on ``flask.g``."""
    state = g.get(STATE_KEY)
    if not isinstance(state, RequestState):
        raise ConfigError("bastion's Flask middleware is not installed: call Middleware(app)")
    return state


class FlaskRequest(BaseRequest):
    """A Flask (werkzeug) request as a :class:`BaseRequest`; the current one by default."""

    __slots__ = ("_body", "request", "state")

    def __init__(self, request: Any = None) -> None:
        # flask.request is a proxy: keep the real object, usable after the proxy moves on.
        req = current_request if request is None else request
        self.request: Any = (
            req._get_current_object() if hasattr(req, "_get_current_object") else req
        )
        self._body: bytes | None = None
        self.state = state_of_g()

    @property
    def original(self) -> Any:
        return self.request

    def method(self) -> str:
        return str(self.request.method).upper()

    def path(self) -> str:
        return str(self.request.root_path) + str(self.request.path)

    def get_header(self, name: str) -> str | None:
        value = self.request.headers.get(name)
        return None if value is None else str(value)

    def get_query_param(self, name: str) -> str | None:
        value = self.request.args.get(name)
        return None if value is None else str(value)

    def client_host(self) -> str | None:
        remote = self.request.remote_addr
        return str(remote) if remote else None

    async def body_bytes(self) -> bytes:
        if self._body is None:
            length = self.request.content_length
            if length is not None and length > MAX_BODY_BYTES:
                raise BadInputError(f"the request body is larger than {MAX_BODY_BYTES} bytes")
            # werkzeug bounds the stream by Content-Length; cache=True leaves it for the app.
            self._body = bytes(self.request.get_data(cache=True))
        return self._body


def to_flask_response(response: HttpResponse) -> Response:
    """A Flask response carrying bastion's answer, marked so changes are not applied twice."""
    answer = Response(
        response.body_bytes(), status=response.status, headers=response.header_items()
    )
    setattr(answer, ANSWERED_ATTR, True)
    return answer


def apply_to_flask_response(response: Response, changes: ResponseChanges) -> None:
    """Merge ``changes`` into ``response``'s headers (``Set-Cookie`` lines included)."""
    merged = apply_changes(list(response.headers.items()), changes)
    response.headers.clear()
    for name, value in merged:
        response.headers.add(name, value)


def _options_response(bastion: Any, path: str) -> Response | None:
    """Answer ``OPTIONS`` on bastion's paths as Flask answers it on its own routes.

    Flask routes ``OPTIONS`` automatically (200, an ``Allow`` header) only for routes it knows,
    and bastion's routes are not Flask routes: without this a CORS preflight to
    ``/auth/session/refresh`` gets a 404, which browsers reject even with CORS headers added
    by ``flask-cors``.
    """
    methods = {r.method for r in bastion.routes if find_route(bastion, r.method, path)}
    if not methods:
        return None
    return Response(status=200, headers={"Allow": ", ".join(sorted({*methods, "OPTIONS"}))})


class Middleware:
    """bastion for a Flask app: ``Middleware(app)`` once, after creating the app.

    It registers a ``before_request`` hook (serves the ``/auth`` API), an ``after_request`` hook
    (writes pending session tokens), a ``teardown_request`` hook (forgets the request's state)
    and an error handler for :class:`~bastion.errors.BastionError` (401/403 answers).
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        app.before_request(self._before_request)
        app.after_request(self._after_request)
        app.teardown_request(self._teardown_request)
        app.register_error_handler(BastionError, self._on_error)
        got_request_exception.connect(self._on_exception, app, weak=False)

    def _before_request(self) -> Response | None:
        # g can outlive a request (a pushed app context); never let a state carry over.
        g.pop(SESSION_KEY, None)
        g.pop(FAILED_KEY, None)
        setattr(g, STATE_KEY, RequestState())
        request = FlaskRequest()
        bastion = current_app()
        try:
            response = run_sync(handle_api_request(bastion, request))
        except BadInputError as error:
            response = HttpResponse(400, {"message": error.message})
        if response is not None:
            return to_flask_response(response)
        if request.method() == "OPTIONS":
            return _options_response(bastion, request.path())
        return None

    def _after_request(self, response: Response) -> Response:
        state = g.get(STATE_KEY)
        if (
            isinstance(state, RequestState)
            and state.changes
            and not getattr(response, ANSWERED_ATTR, False)
            and not g.get(FAILED_KEY)
        ):
            apply_to_flask_response(response, state.changes)
        return response

    def _teardown_request(self, _exc: BaseException | None) -> None:
        g.pop(STATE_KEY, None)
        g.pop(SESSION_KEY, None)
        g.pop(FAILED_KEY, None)

    def _on_exception(self, _sender: Any, **_extra: Any) -> None:
        setattr(g, FAILED_KEY, True)

    def _on_error(self, error: Exception) -> Response:
        if not isinstance(error, BastionError):  # pragma: no cover - registered for BastionError
            raise error
        recipe = current_app().session_recipe
        answer = run_sync(
            error_response(error, FlaskRequest(), recipe.config, recipe.error_handlers)
        )
        if answer is None:
            raise error
        return to_flask_response(answer)
