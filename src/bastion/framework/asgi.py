"""The ASGI adapter (Starlette and FastAPI): request wrapper and middleware.

The middleware serves the ``/auth`` API, answers bastion's errors raised by the app's routes,
and adds the headers and cookies a request queued to the app's own response.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from bastion.errors import BadInputError, BastionError, ConfigError
from bastion.http.responses import error_response
from bastion.http.router import handle_api_request
from bastion.http.types import (
    MAX_BODY_BYTES,
    BaseRequest,
    HttpResponse,
    RequestState,
    apply_changes,
)
from bastion.runtime import current_app

__all__ = ["ASGIRequest", "BastionMiddleware", "state_of_scope"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATE_KEY = "bastion.state"


def state_of_scope(scope: Scope) -> RequestState:
    """The request's :class:`RequestState`, which the middleware put in the scope."""
    state = scope.get(STATE_KEY)
    if not isinstance(state, RequestState):
        raise ConfigError(
            "bastion's middleware is not installed: add app.add_middleware(get_middleware())"
        )
    return state


class ASGIRequest(BaseRequest):
    """An ASGI ``scope`` (plus ``receive``, to read the body) as a :class:`BaseRequest`."""

    __slots__ = ("_body", "_headers", "_receive", "_too_large", "scope", "state")

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        self.scope = scope
        self._receive = receive
        self._body: bytes | None = None
        self._too_large = False
        self._headers: dict[str, str] | None = None
        self.state = state_of_scope(scope)

    def method(self) -> str:
        return str(self.scope["method"])

    def path(self) -> str:
        return str(self.scope.get("root_path", "")) + str(self.scope["path"])

    def get_header(self, name: str) -> str | None:
        if self._headers is None:
            headers: dict[str, str] = {}
            for key, value in self.scope["headers"]:
                k = key.decode("latin-1").lower()
                v = value.decode("latin-1")
                # Repeated headers are joined; cookies with "; " as the Cookie header demands.
                headers[k] = (
                    f"{headers[k]}{'; ' if k == 'cookie' else ', '}{v}" if k in headers else v
                )
            self._headers = headers
        return self._headers.get(name)

    def get_query_param(self, name: str) -> str | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get(name)
        return values[0] if values else None

    def client_host(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None

    async def body_bytes(self) -> bytes:
        if self._body is not None:
            return self._body
        if self._too_large:  # already read to the end: receiving again would wait forever
            raise BadInputError(f"the request body is larger than {MAX_BODY_BYTES} bytes")
        if self._receive is None:
            return b""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY_BYTES:
                chunks.append(chunk)
            more = message.get("more_body", False)
        if size > MAX_BODY_BYTES:
            self._too_large = True
            raise BadInputError(f"the request body is larger than {MAX_BODY_BYTES} bytes")
        self._body = b"".join(chunks)
        return self._body


async def send_response(send: Send, response: HttpResponse) -> None:
    body = response.body_bytes()
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.header_items()]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drain(request: ASGIRequest) -> None:
    """Read what is left of the body: an unread body corrupts the next kept-alive request."""
    with contextlib.suppress(BadInputError):
        await request.body_bytes()


class BastionMiddleware:
    """Pure ASGI middleware; add it to the app (``app.add_middleware(get_middleware())``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bastion = current_app()
        scope[STATE_KEY] = RequestState()
        request = ASGIRequest(scope, receive)
        try:
            response = await handle_api_request(bastion, request)
        except BadInputError as error:
            response = HttpResponse(400, {"message": error.message})
        if response is not None:
            await _drain(request)
            await send_response(send, response)
            return
        state = request.state
        started = False

        async def send_with_changes(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if state.changes:
                    headers = [
                        (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                    ]
                    message["headers"] = [
                        (k.encode("latin-1"), v.encode("latin-1"))
                        for k, v in apply_changes(headers, state.changes)
                    ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_changes)
        except BastionError as error:
            if started:
                raise
            recipe = bastion.session_recipe
            answer = await error_response(error, request, recipe.config, recipe.error_handlers)
            if answer is None:
                raise
            await send_response(send, answer)
