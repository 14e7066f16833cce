"""The session recipe's settings, resolved from ``session.init(...)`` and the app info."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bastion.appinfo import AppInfo
from bastion.core.cookies import CookieSpec, SameSite
from bastion.errors import ConfigError
from bastion.http.types import BaseRequest

__all__ = ["AntiCsrfMode", "SessionConfig", "TokenTransferMethod"]

TokenTransferMethod = Literal["cookie", "header"]
AntiCsrfMode = Literal["VIA_TOKEN", "VIA_CUSTOM_HEADER", "NONE"]
TransferChooser = Callable[[BaseRequest, bool, dict[str, Any]], Literal["cookie", "header", "any"]]

DAY_S = 24 * 3600


def default_transfer_method(
    request: BaseRequest, for_create_new_session: bool, user_context: dict[str, Any]
) -> Literal["cookie", "header", "any"]:
    """Creation follows ``st-auth-mode``; reading accepts either method."""
    if not for_create_new_session:
        return "any"
    mode = (request.get_header("st-auth-mode") or "").lower()
    if mode == "cookie":
        return "cookie"
    if mode == "header":
        return "header"
    return "any"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """Resolved session settings (all times in seconds unless named ``_ms``)."""

    cookie: CookieSpec
    older_cookie_domain: str | None
    anti_csrf: AntiCsrfMode
    access_token_validity: int
    refresh_token_validity: int
    refresh_token_grace_period: int
    session_max_age: int | None
    """Absolute lifetime since sign-in (seconds), whatever the activity; None: unlimited."""
    signing_key_update_interval: int
    use_dynamic_access_token_signing_key: bool
    expose_access_token_to_frontend_in_cookie_based_auth: bool
    session_expired_status_code: int
    invalid_claim_status_code: int
    get_token_transfer_method: TransferChooser
    access_token_path: str
    refresh_token_path: str
    issuer: str
    local_dev: bool
    """API and website both on localhost/IPs, where SameSite=None without Secure is tolerated."""

    def session_end_ms(self, created_at_ms: int, now_ms: int) -> int:
        """When a session created at ``created_at_ms`` and refreshed now expires: the idle
        limit (``refresh_token_validity`` from now), capped by ``session_max_age``."""
        idle_end = now_ms + self.refresh_token_validity * 1000
        if self.session_max_age is None:
            return idle_end
        return min(idle_end, created_at_ms + self.session_max_age * 1000)

    def access_token_exp_s(self, created_at_ms: int, iat_s: int) -> int:
        """An access token's ``exp``: its validity from ``iat``, never past ``session_max_age``."""
        exp = iat_s + self.access_token_validity
        if self.session_max_age is None:
            return exp
        return min(exp, (created_at_ms + self.session_max_age * 1000) // 1000)

    @classmethod
    def resolve(
        cls,
        app_info: AppInfo,
        *,
        cookie_domain: str | None = None,
        older_cookie_domain: str | None = None,
        cookie_secure: bool | None = None,
        cookie_same_site: SameSite | None = None,
        anti_csrf: AntiCsrfMode | None = None,
        access_token_validity: int = 3600,
        refresh_token_validity: int = 100 * DAY_S,
        refresh_token_grace_period: int = 30,
        session_max_age: int | None = None,
        signing_key_update_interval: int = 7 * DAY_S,
        use_dynamic_access_token_signing_key: bool = True,
        expose_access_token_to_frontend_in_cookie_based_auth: bool = False,
        session_expired_status_code: int = 401,
        invalid_claim_status_code: int = 403,
        get_token_transfer_method: TransferChooser | None = None,
    ) -> SessionConfig:
        same_site: SameSite = cookie_same_site or ("none" if app_info.is_cross_site() else "lax")
        if same_site not in ("lax", "strict", "none"):
            raise ConfigError("cookie_same_site must be 'lax', 'strict' or 'none'")
        mode: AntiCsrfMode = anti_csrf or ("VIA_CUSTOM_HEADER" if same_site == "none" else "NONE")
        if mode not in ("VIA_TOKEN", "VIA_CUSTOM_HEADER", "NONE"):
            raise ConfigError("anti_csrf must be 'VIA_TOKEN', 'VIA_CUSTOM_HEADER' or 'NONE'")
        if session_expired_status_code == invalid_claim_status_code:
            raise ConfigError(
                "session_expired_status_code and invalid_claim_status_code must differ"
            )
        if access_token_validity <= 0 or refresh_token_validity <= access_token_validity // 60:
            raise ConfigError("token lifetimes must be positive, refresh well above access")
        if not 0 <= refresh_token_grace_period <= 300:
            raise ConfigError("refresh_token_grace_period must be between 0 and 300 seconds")
        if session_max_age is not None and session_max_age < 60:
            raise ConfigError("session_max_age must be at least 60 seconds (or None)")
        if signing_key_update_interval < 120:
            raise ConfigError("signing_key_update_interval must be at least 120 seconds")
        base = app_info.api_gateway_path + app_info.api_base_path
        return cls(
            cookie=CookieSpec(
                secure=app_info.api_is_https if cookie_secure is None else cookie_secure,
                same_site=same_site,
                domain=_normalise_cookie_domain(cookie_domain),
            ),
            older_cookie_domain=_normalise_cookie_domain(older_cookie_domain),
            anti_csrf=mode,
            access_token_validity=access_token_validity,
            refresh_token_validity=refresh_token_validity,
            refresh_token_grace_period=refresh_token_grace_period,
            session_max_age=session_max_age,
            signing_key_update_interval=signing_key_update_interval,
            use_dynamic_access_token_signing_key=use_dynamic_access_token_signing_key,
            expose_access_token_to_frontend_in_cookie_based_auth=(
                expose_access_token_to_frontend_in_cookie_based_auth
            ),
            session_expired_status_code=session_expired_status_code,
            invalid_claim_status_code=invalid_claim_status_code,
            get_token_transfer_method=get_token_transfer_method or default_transfer_method,
            access_token_path="/",
            refresh_token_path=base + "/session/refresh",
            issuer=app_info.issuer,
            local_dev=app_info.is_local(),
        )


def _normalise_cookie_domain(domain: str | None) -> str | None:
    if domain is None:
        return None
    domain = domain.strip().lower()
    if "://" in domain:
        domain = domain.split("://", 1)[1]
    domain = domain.split("/")[0].split(":")[0]
    if not domain.strip("."):
        raise ConfigError("cookie_domain must name a host")
    return domain
