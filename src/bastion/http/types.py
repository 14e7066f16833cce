"""What an adapter must provide (:class:`BaseRequest`) and what it must apply
(:class:`ResponseChanges`, :class:`HttpResponse`)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bastion.core.cookies import parse_cookie_header
from bastion.core.encoding import compact_json
from bastion.errors import BadInputError

if TYPE_CHECKING:
    from bastion.sessions.container import SessionContainer

__all__ = ["BaseRequest", "HttpResponse", "RequestState", "ResponseChanges", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 64 * 1024
EXPOSE_HEADER = "access-control-expose-headers"


class ResponseChanges:
    """Headers and cookies bastion wants on the response to the current request.

    Setting a header replaces any value the app gave it; a cookie replaces an earlier one with
    the same name, path and domain, so a response never carries two values for one cookie.
    """

    __slots__ = ("_cookies", "_expose", "_headers")

    def __init__(self) -> None:
        self._headers: dict[str, str | None] = {}
        self._cookies: dict[tuple[str, str, str | None], str] = {}
        self._expose: list[str] = []

    def __bool__(self) -> bool:
        return bool(self._headers or self._cookies or self._expose)

    def set_header(self, name: str, value: str, *, expose: bool = False) -> None:
        self._headers[name.lower()] = value
        if expose:
            self.expose(name)

    def remove_header(self, name: str) -> None:
        self._headers[name.lower()] = None

    def expose(self, name: str) -> None:
        if name not in self._expose:
            self._expose.append(name)

    def set_cookie(self, name: str, path: str, domain: str | None, set_cookie_value: str) -> None:
        self._cookies[(name, path, domain)] = set_cookie_value

    def replaced_headers(self) -> set[str]:
        """Lower-case names whose existing values must be dropped before applying."""
        return set(self._headers)

    def header_items(self, existing_expose: str | None = None) -> list[tuple[str, str]]:
        """The ``(name, value)`` pairs to add, ``Set-Cookie`` lines included."""
        items = [(k, v) for k, v in self._headers.items() if v is not None]
        if self._expose:
            known = [h.strip() for h in (existing_expose or "").split(",") if h.strip()]
            items.append(
                (EXPOSE_HEADER, ",".join(known + [h for h in self._expose if h not in known]))
            )
        items.extend(("set-cookie", v) for v in self._cookies.values())
        return items

    def merge(self, other: ResponseChanges) -> None:
        self._headers.update(other._headers)
        self._cookies.update(other._cookies)
        for name in other._expose:
            self.expose(name)


@dataclass(slots=True)
class RequestState:
    """Per-request scratch space: the verified session and the response changes it queued."""

    changes: ResponseChanges = field(default_factory=ResponseChanges)
    session: SessionContainer | None = None


class BaseRequest(ABC):
    """A framework's request, seen through the few questions bastion asks of it."""

    state: RequestState
    _cookies: dict[str, list[str]] | None = None

    @abstractmethod
    def method(self) -> str:
        """Upper-case HTTP method."""

    @abstractmethod
    def path(self) -> str:
        """URL path without the query string."""

    @abstractmethod
    def get_header(self, name: str) -> str | None:
        """Value of header ``name`` (lower case), or None."""

    @abstractmethod
    def get_query_param(self, name: str) -> str | None:
        """First value of query parameter ``name``, or None."""

    @abstractmethod
    async def body_bytes(self) -> bytes:
        """The whole request body, read at most once."""

    @property
    def original(self) -> Any:
        """The framework's own request object."""
        return None

    def client_host(self) -> str | None:
        """The address of the peer that sent the request (never ``X-Forwarded-For``), or None."""
        return None

    def cookie_values(self, name: str) -> list[str]:
        if self._cookies is None:
            self._cookies = parse_cookie_header(self.get_header("cookie"))
        return self._cookies.get(name, [])

    def get_cookie(self, name: str) -> str | None:
        values = self.cookie_values(name)
        return values[0] if values else None

    async def json_body(self) -> Any:
        """The body parsed as JSON; ``{}`` when empty; 400 when it is not JSON."""
        raw = await self.body_bytes()
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
            # JSON may spell lone UTF-16 surrogates ("\ud800"), which no UTF-8 text can hold.
            compact_json(value).encode("utf-8")
        except (ValueError, RecursionError) as exc:  # UnicodeError is a ValueError
            raise BadInputError("the request body is not valid JSON") from exc
        return value


@dataclass(slots=True)
class HttpResponse:
    """A complete response produced by bastion (an API route or an error)."""

    status: int
    body: Any
    changes: ResponseChanges = field(default_factory=ResponseChanges)
    content_type: str = "application/json; charset=utf-8"

    def body_bytes(self) -> bytes:
        return compact_json(self.body).encode("utf-8")

    def header_items(self) -> list[tuple[str, str]]:
        extra = [(k, v) for k, v in self.changes.header_items() if k != "content-type"]
        return [("content-type", self.content_type), *extra]


def apply_changes(
    existing: Iterable[tuple[str, str]], changes: ResponseChanges
) -> list[tuple[str, str]]:
    """Merge ``changes`` into an app response's header list (names compared lower-case)."""
    replaced = changes.replaced_headers() | {EXPOSE_HEADER}
    kept: list[tuple[str, str]] = []
    expose: str | None = None
    for name, value in existing:
        lname = name.lower()
        if lname == EXPOSE_HEADER:
            expose = value if expose is None else f"{expose},{value}"
        if lname not in replaced:
            kept.append((name, value))
    items = changes.header_items(expose)
    if expose is not None and not any(k == EXPOSE_HEADER for k, _ in items):
        items.append((EXPOSE_HEADER, expose))
    return kept + items
