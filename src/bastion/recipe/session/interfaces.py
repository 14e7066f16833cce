"""The session recipe's override surfaces and result types.

``RecipeInterface`` is the data layer (what ``override.functions`` receives) and
``APIInterface`` the HTTP layer (``override.apis``). Overrides may replace any method on the
instance they are given, as the seed does with ``get_global_claim_validators``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.sessions.claims import (
    ClaimValidationError,
    ClaimValidationResult,
    JSONObject,
    SessionClaim,
    SessionClaimValidator,
)

if TYPE_CHECKING:
    from bastion.http.types import BaseRequest
    from bastion.sessions.config import SessionConfig
    from bastion.sessions.container import SessionContainer

__all__ = [
    "APIInterface",
    "APIOptions",
    "ClaimValidationError",
    "ClaimValidationResult",
    "ClaimsValidationResult",
    "GetClaimValueOkResult",
    "JSONObject",
    "RecipeInterface",
    "SessionClaim",
    "SessionClaimValidator",
    "SessionContainer",
    "SessionDoesNotExistError",
    "SessionInformationResult",
]


def __getattr__(name: str) -> Any:
    # SessionContainer lives with the session machinery; re-exported here for the seed's imports.
    if name == "SessionContainer":
        from bastion.sessions.container import SessionContainer

        return SessionContainer
    raise AttributeError(name)


@dataclass(frozen=True, slots=True)
class SessionInformationResult:
    """What storage knows about a session."""

    session_handle: str
    user_id: str
    recipe_user_id: str
    session_data_in_database: dict[str, Any]
    expiry: int
    """Session (refresh) expiry, ms."""
    custom_claims_in_access_token_payload: dict[str, Any]
    time_created: int
    tenant_id: str


class SessionDoesNotExistError:
    """Returned (not raised) by handle-based functions when the session is gone."""

    status = "SESSION_DOES_NOT_EXIST_ERROR"


@dataclass(frozen=True, slots=True)
class GetClaimValueOkResult:
    value: Any
    status: str = "OK"


@dataclass(frozen=True, slots=True)
class ClaimsValidationResult:
    invalid_claims: list[ClaimValidationError]
    status: str = "OK"


OverrideGlobalValidators = Callable[
    [list[SessionClaimValidator], "SessionContainer", dict[str, Any]],
    list[SessionClaimValidator] | Awaitable[list[SessionClaimValidator]],
]


class RecipeInterface(ABC):
    """The session recipe's functions; ``override.functions`` receives an instance."""

    @abstractmethod
    async def create_new_session(
        self,
        user_id: str,
        access_token_payload: dict[str, Any] | None,
        session_data_in_database: dict[str, Any] | None,
        disable_anti_csrf: bool,
        user_context: dict[str, Any],
        *,
        tenant_id: str = "public",
        recipe_user_id: str | None = None,
    ) -> SessionContainer: ...

    @abstractmethod
    async def get_global_claim_validators(
        self,
        user_id: str,
        claim_validators_added_by_other_recipes: list[SessionClaimValidator],
        user_context: dict[str, Any],
    ) -> list[SessionClaimValidator]:
        """The validators every ``verify_session`` runs unless told otherwise."""

    @abstractmethod
    async def get_session(
        self,
        access_token: str,
        anti_csrf_token: str | None,
        anti_csrf_check: bool,
        check_database: bool,
        user_context: dict[str, Any],
    ) -> SessionContainer: ...

    @abstractmethod
    async def refresh_session(
        self,
        refresh_token: str,
        anti_csrf_token: str | None,
        disable_anti_csrf: bool,
        user_context: dict[str, Any],
    ) -> SessionContainer: ...

    @abstractmethod
    async def revoke_session(self, session_handle: str, user_context: dict[str, Any]) -> bool: ...

    @abstractmethod
    async def revoke_all_sessions_for_user(
        self, user_id: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> list[str]: ...

    @abstractmethod
    async def get_all_session_handles_for_user(
        self, user_id: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> list[str]: ...

    @abstractmethod
    async def get_session_information(
        self, session_handle: str, user_context: dict[str, Any]
    ) -> SessionInformationResult | None: ...

    @abstractmethod
    async def update_session_data_in_database(
        self, session_handle: str, new_session_data: dict[str, Any], user_context: dict[str, Any]
    ) -> bool: ...

    @abstractmethod
    async def merge_into_access_token_payload(
        self,
        session_handle: str,
        access_token_payload_update: dict[str, Any],
        user_context: dict[str, Any],
    ) -> bool:
        """Update the stored payload only; live tokens change at their next refresh."""

    @abstractmethod
    async def regenerate_access_token(
        self,
        session: SessionContainer,
        access_token_payload_update: dict[str, Any],
        user_context: dict[str, Any],
    ) -> None:
        """Merge into the payload of a live session and re-issue its access token."""

    @abstractmethod
    async def validate_claims(
        self,
        session: SessionContainer,
        claim_validators: list[SessionClaimValidator],
        user_context: dict[str, Any],
    ) -> list[ClaimValidationError]:
        """Refetch what validators ask for, then return the failures."""


@dataclass(slots=True)
class APIOptions:
    """What an API implementation gets along with the request."""

    request: BaseRequest
    config: SessionConfig
    recipe_implementation: RecipeInterface


class APIInterface:
    """The session recipe's HTTP endpoints; ``override.apis`` receives an instance."""

    def __init__(self) -> None:
        self.disable_refresh_post = False
        self.disable_signout_post = False

    async def refresh_post(
        self, api_options: APIOptions, user_context: dict[str, Any]
    ) -> SessionContainer:
        from bastion.sessions.request_flow import refresh_session_in_request

        return await refresh_session_in_request(api_options.request, user_context)

    async def signout_post(
        self,
        session: SessionContainer | None,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        if session is not None:
            await session.revoke_session(user_context)
        return {"status": "OK"}
