"""Where the API and the website live: ``InputAppInfo`` and its normalised form."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from bastion.errors import ConfigError

__all__ = ["AppInfo", "InputAppInfo", "normalise_path"]


def normalise_path(path: str) -> str:
    """``"auth/"`` -> ``"/auth"``; ``"/"`` and ``""`` -> ``""``."""
    path = path.strip()
    if "://" in path:
        path = urlsplit(path).path
    path = "/" + path.strip("/")
    return "" if path == "/" else path


def _normalise_domain(value: str, what: str) -> str:
    value = value.strip().rstrip("/")
    if "://" not in value:
        host = value.split(":")[0]
        scheme = "http" if host in {"localhost", "127.0.0.1"} else "https"
        value = f"{scheme}://{value}"
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{what} must be an http(s) origin, got {value!r}")
    if parts.path not in {"", "/"}:
        raise ConfigError(f"{what} must not contain a path, got {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


class InputAppInfo:
    """The app's name and where its API and website are served, as passed to ``bastion.init``."""

    def __init__(
        self,
        app_name: str,
        api_domain: str,
        api_gateway_path: str = "",
        api_base_path: str = "/auth",
        website_base_path: str = "/auth",
        website_domain: str | None = None,
        origin: str | None = None,
    ) -> None:
        self.app_name = app_name
        self.api_domain = api_domain
        self.api_gateway_path = api_gateway_path
        self.api_base_path = api_base_path
        self.website_base_path = website_base_path
        self.website_domain = website_domain
        self.origin = origin


@dataclass(frozen=True, slots=True, kw_only=True)
class AppInfo:
    """Validated, normalised app info."""

    app_name: str
    api_domain: str
    website_domain: str
    api_gateway_path: str
    api_base_path: str
    website_base_path: str

    @classmethod
    def from_input(cls, info: InputAppInfo) -> AppInfo:
        if not info.app_name:
            raise ConfigError("app_info.app_name must not be empty")
        website = info.origin or info.website_domain
        if not website:
            raise ConfigError("app_info needs website_domain (or origin)")
        return cls(
            app_name=info.app_name,
            api_domain=_normalise_domain(info.api_domain, "api_domain"),
            website_domain=_normalise_domain(website, "website_domain"),
            api_gateway_path=normalise_path(info.api_gateway_path),
            api_base_path=normalise_path(info.api_base_path),
            website_base_path=normalise_path(info.website_base_path),
        )

    @property
    def issuer(self) -> str:
        """``iss`` of access tokens and the OpenID issuer."""
        return self.api_domain + self.api_gateway_path + self.api_base_path

    @property
    def api_is_https(self) -> bool:
        return self.api_domain.startswith("https://")

    def is_cross_site(self) -> bool:
        """True when the browser will treat API calls from the website as cross-site."""
        api, web = urlsplit(self.api_domain), urlsplit(self.website_domain)
        if api.scheme != web.scheme:
            return True
        return _site(api.hostname or "") != _site(web.hostname or "")

    def is_local(self) -> bool:
        """Both ends on localhost or an IP address (where browsers relax cookie rules)."""
        return all(
            _site(urlsplit(d).hostname or "") == "localhost"
            for d in (self.api_domain, self.website_domain)
        )


def _site(host: str) -> str:
    """A registrable-domain approximation: the last two labels; localhost and IPs are one site."""
    if host == "localhost" or host.endswith(".localhost"):
        return "localhost"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return ".".join(host.split(".")[-2:])
    return "localhost"
