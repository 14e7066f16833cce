"""An HTTP client that keeps session tokens the way the SuperTokens frontend SDK does."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

import httpx

Mode = Literal["cookie", "header"]


class SessionClient:
    """Sends ``st-auth-mode`` and ``rid``; stores header-mode tokens and ``anti-csrf``."""

    def __init__(
        self, base_url: str, mode: Mode = "cookie", *, rid: str | None = "anti-csrf"
    ) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.mode = mode
        self.rid = rid
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.anti_csrf: str | None = None
        self.front_token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SessionClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self, extra: dict[str, str] | None, *, bearer: str | None) -> dict[str, str]:
        headers = {"st-auth-mode": self.mode}
        if self.rid is not None:
            headers["rid"] = self.rid
        if self.anti_csrf is not None:
            headers["anti-csrf"] = self.anti_csrf
        if bearer is not None:
            headers["authorization"] = f"Bearer {bearer}"
        headers.update(extra or {})
        return headers

    def _save(self, response: httpx.Response) -> None:
        for header, attr in (
            ("st-access-token", "access_token"),
            ("st-refresh-token", "refresh_token"),
        ):
            if header in response.headers:
                setattr(self, attr, response.headers[header] or None)
        if "anti-csrf" in response.headers:
            self.anti_csrf = response.headers["anti-csrf"]
        front = response.headers.get("front-token")
        if front is not None:
            self.front_token = None if front == "remove" else front
            if front == "remove":
                self.anti_csrf = None

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        bearer = self.access_token if self.mode == "header" else None
        response = self.http.request(
            method, path, headers=self._headers(headers, bearer=bearer), **kwargs
        )
        self._save(response)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def refresh(self, *, headers: dict[str, str] | None = None) -> httpx.Response:
        bearer = self.refresh_token if self.mode == "header" else None
        base = self._headers({"rid": "session"}, bearer=bearer)
        base.update(headers or {})
        response = self.http.post("/auth/session/refresh", headers=base)
        self._save(response)
        return response

    def use_tokens(self, *, access: str | None = None, refresh: str | None = None) -> None:
        """Hold these tokens, as a client that got them earlier would (either mode)."""
        host = self.http.base_url.host
        if access is not None:
            self.access_token = access
            if self.mode == "cookie":
                self.http.cookies.set("sAccessToken", access, domain=host, path="/")
        if refresh is not None:
            self.refresh_token = refresh
            if self.mode == "cookie":
                self.http.cookies.set(
                    "sRefreshToken", refresh, domain=host, path="/auth/session/refresh"
                )

    def current_refresh_token(self) -> str | None:
        if self.mode == "header":
            return self.refresh_token
        return self.http.cookies.get("sRefreshToken", domain=self.http.base_url.host)

    def current_access_token(self) -> str | None:
        if self.mode == "header":
            return self.access_token
        return self.http.cookies.get("sAccessToken", domain=self.http.base_url.host)

    def payload(self) -> dict[str, Any]:
        """The access-token payload from the last ``front-token`` header."""
        assert self.front_token is not None
        return json.loads(base64.b64decode(self.front_token))["up"]  # type: ignore[no-any-return]
