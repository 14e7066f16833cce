"""bastion's exception tree.

::

    BastionError
    ├── ConfigError (also ValueError)          misuse of init() or of an API
    ├── MissingExtra (also ImportError)        an optional dependency is not installed
    ├── BadInputError                          400: a request bastion cannot read
    ├── TooManyRequestsError                   429: throttled (``retry_after_s`` when known)
    ├── StorageError                           the database failed or is inconsistent
    │   ├── StorageUnavailableError            503: unreachable, busy or out of connections
    │   └── StoreClosedError                   the store was closed; it never reopens itself
    └── SessionError                           answered by the session recipe's handlers
        ├── UnauthorisedError                  401 {"message":"unauthorised"}, maybe clearing tokens
        ├── TryRefreshTokenError               401 {"message":"try refresh token"}
        ├── ClearDuplicateSessionCookiesError  200, clears the older_cookie_domain cookies
        ├── TokenTheftError                    401 {"message":"token theft detected"}, revoked
        └── InvalidClaimsError                 403 {"message":"invalid claim", ...}

Only :mod:`bastion.http.responses` turns these into HTTP responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bastion.sessions.claims import ClaimValidationError

__all__ = [
    "BadInputError",
    "BastionError",
    "ClearDuplicateSessionCookiesError",
    "ConfigError",
    "InvalidClaimsError",
    "MissingExtra",
    "SessionError",
    "StorageError",
    "StorageUnavailableError",
    "StoreClosedError",
    "TokenTheftError",
    "TooManyRequestsError",
    "TryRefreshTokenError",
    "UnauthorisedError",
]


class BastionError(Exception):
    """Root of every error bastion raises on purpose."""

    code = "bastion_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class ConfigError(BastionError, ValueError):
    """bastion was configured or called in a way it cannot honour."""

    code = "config_error"


class MissingExtra(BastionError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    code = "missing_extra"

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package} is not installed: install it with `pip install 'bastion-auth[{extra}]'`"
        )
        self.extra = extra


class BadInputError(BastionError):
    """The request could not be understood (HTTP 400)."""

    code = "bad_input"
    status_code = 400


class TooManyRequestsError(BastionError):
    """The client or the account is throttled (HTTP 429 ``{"message": ...}``).

    ``retry_after_s`` is sent as ``Retry-After`` when the wait is known; it is None for a hard
    lock that only a password reset lifts.
    """

    code = "too_many_requests"
    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StorageError(BastionError):
    """The storage backend failed."""

    code = "storage_error"


class StorageUnavailableError(StorageError):
    """The database cannot serve the request now (HTTP 503 with ``Retry-After``).

    Raised for an unreachable server, a connection lost during a request, a full connection pool
    and a SQLite database that stays locked past its busy timeout. Nothing was decided: the
    request is refused rather than allowed (fail closed). ``retry_after_s`` is a hint for the
    client; the message names the database with its password masked, never the password.
    """

    code = "storage_unavailable"
    status_code = 503

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StoreClosedError(StorageError):
    """The store was used after :meth:`close`; it does not silently reopen connections."""

    code = "store_closed"


class SessionError(BastionError):
    """An outcome of session verification that has a defined HTTP answer."""

    code = "session_error"


class UnauthorisedError(SessionError):
    """No valid session. ``clear_tokens`` says whether the response clears the client's tokens."""

    code = "unauthorised"

    def __init__(self, message: str, *, clear_tokens: bool = True) -> None:
        super().__init__(message)
        self.clear_tokens = clear_tokens


class TryRefreshTokenError(SessionError):
    """The access token cannot be used as it is; the client should call the refresh API."""

    code = "try_refresh_token"


class TokenTheftError(SessionError):
    """A refresh token was reused outside its grace window; the session has been revoked."""

    code = "token_theft_detected"

    def __init__(self, session_handle: str, user_id: str, recipe_user_id: str) -> None:
        super().__init__("token theft detected")
        self.session_handle = session_handle
        self.user_id = user_id
        self.recipe_user_id = recipe_user_id


class ClearDuplicateSessionCookiesError(SessionError):
    """Session cookies of an older cookie domain reached the refresh API: clear them (200)."""

    code = "clear_duplicate_session_cookies"


class InvalidClaimsError(SessionError):
    """A claim validator failed (HTTP 403)."""

    code = "invalid_claim"

    def __init__(self, message: str, payload: Sequence[ClaimValidationError]) -> None:
        super().__init__(message)
        self.payload = list(payload)
