"""``SessionContainer``: one verified session, as route handlers see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bastion.bridge import sync_method
from bastion.errors import InvalidClaimsError, UnauthorisedError
from bastion.sessions.claims import SessionClaim, SessionClaimValidator
from bastion.sessions.config import SessionConfig, TokenTransferMethod
from bastion.sessions.transport import clear_tokens

if TYPE_CHECKING:
    from bastion.http.types import RequestState
    from bastion.recipe.session.interfaces import RecipeInterface
    from bastion.sessions.transport import IssuedTokens

__all__ = ["SessionContainer"]


class SessionContainer:
    """A session: its identity and payload in memory, its data in storage.

    Reads of the identity and payload are free; methods that change the payload re-issue the
    access token and queue it on the current response. Every ``async`` method has a
    ``sync_`` twin for synchronous frameworks, driven by :func:`bastion.bridge.run_sync`.
    """

    def __init__(
        self,
        recipe_implementation: RecipeInterface,
        *,
        config: SessionConfig,
        access_token: str,
        front_token: str,
        payload: dict[str, Any],
        transfer_method: TokenTransferMethod | None,
        issued: IssuedTokens | None = None,
    ) -> None:
        self.recipe_implementation = recipe_implementation
        self.config = config
        self.access_token = access_token
        self.front_token = front_token
        self._payload = payload
        self.transfer_method = transfer_method
        self.issued = issued
        """Tokens minted for this response (create, refresh, payload update), if any."""
        self.request_state: RequestState | None = None

    # -- identity (no I/O) ---------------------------------------------------------------------

    def get_user_id(self, user_context: dict[str, Any] | None = None) -> str:
        return str(self._payload["sub"])

    def get_recipe_user_id(self, user_context: dict[str, Any] | None = None) -> str:
        return str(self._payload["rsub"])

    def get_tenant_id(self, user_context: dict[str, Any] | None = None) -> str:
        return str(self._payload["tId"])

    def get_handle(self, user_context: dict[str, Any] | None = None) -> str:
        return str(self._payload["sessionHandle"])

    def get_access_token(self, user_context: dict[str, Any] | None = None) -> str:
        return self.access_token

    def get_access_token_payload(
        self, user_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The whole decoded payload (a copy; change it with the merge methods)."""
        return dict(self._payload)

    def get_all_session_tokens_dangerously(self) -> dict[str, Any]:
        return {
            "accessToken": self.access_token,
            "accessAndFrontTokenUpdated": self.issued is not None,
            "refreshToken": self.issued.refresh_token if self.issued else None,
            "frontToken": self.front_token,
            "antiCsrfToken": self.issued.anti_csrf_token if self.issued else None,
        }

    def _replace_payload(self, payload: dict[str, Any]) -> None:
        self._payload = payload

    # -- claims --------------------------------------------------------------------------------

    async def get_claim_value(
        self, claim: SessionClaim[Any], user_context: dict[str, Any] | None = None
    ) -> Any:
        return claim.get_value_from_payload(self._payload, user_context)

    async def set_claim_value(
        self, claim: SessionClaim[Any], value: Any, user_context: dict[str, Any] | None = None
    ) -> None:
        update = claim.add_to_payload_({}, value, user_context)
        await self.merge_into_access_token_payload(update, user_context)

    async def fetch_and_set_claim(
        self, claim: SessionClaim[Any], user_context: dict[str, Any] | None = None
    ) -> None:
        update = await claim.build(
            self.get_user_id(),
            user_context,
            recipe_user_id=self.get_recipe_user_id(),
            tenant_id=self.get_tenant_id(),
            current_payload=self._payload,
        )
        await self.merge_into_access_token_payload(update, user_context)

    async def remove_claim(
        self, claim: SessionClaim[Any], user_context: dict[str, Any] | None = None
    ) -> None:
        update = claim.remove_from_payload_by_merge_({}, user_context)
        await self.merge_into_access_token_payload(update, user_context)

    async def merge_into_access_token_payload(
        self,
        access_token_payload_update: dict[str, Any],
        user_context: dict[str, Any] | None = None,
    ) -> None:
        """Merge into the payload (``None`` deletes a key) and re-issue the access token."""
        await self.recipe_implementation.regenerate_access_token(
            self, access_token_payload_update, user_context if user_context is not None else {}
        )

    async def assert_claims(
        self,
        claim_validators: list[SessionClaimValidator],
        user_context: dict[str, Any] | None = None,
    ) -> None:
        """Raise :class:`~bastion.errors.InvalidClaimsError` (403) if any validator fails."""
        errors = await self.recipe_implementation.validate_claims(
            self, claim_validators, user_context if user_context is not None else {}
        )
        if errors:
            raise InvalidClaimsError("invalid claim", errors)

    # -- storage -------------------------------------------------------------------------------

    async def revoke_session(self, user_context: dict[str, Any] | None = None) -> None:
        """Revoke in storage and clear the client's tokens on this response."""
        await self.recipe_implementation.revoke_session(
            self.get_handle(), user_context if user_context is not None else {}
        )
        if self.request_state is not None and self.transfer_method is not None:
            clear_tokens(self.request_state.changes, self.config, self.transfer_method)

    async def _info(self, user_context: dict[str, Any] | None) -> Any:
        info = await self.recipe_implementation.get_session_information(
            self.get_handle(), user_context if user_context is not None else {}
        )
        if info is None:
            raise UnauthorisedError("Session does not exist anymore.")
        return info

    async def get_session_data_from_database(
        self, user_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        info = await self._info(user_context)
        return dict(info.session_data_in_database)

    async def update_session_data_in_database(
        self, new_session_data: dict[str, Any], user_context: dict[str, Any] | None = None
    ) -> None:
        ok = await self.recipe_implementation.update_session_data_in_database(
            self.get_handle(), new_session_data, user_context if user_context is not None else {}
        )
        if not ok:
            raise UnauthorisedError("Session does not exist anymore.")

    async def get_time_created(self, user_context: dict[str, Any] | None = None) -> int:
        """When the session was created (ms)."""
        return int((await self._info(user_context)).time_created)

    async def get_expiry(self, user_context: dict[str, Any] | None = None) -> int:
        """When the session (its refresh token) expires (ms)."""
        return int((await self._info(user_context)).expiry)

    # -- sync faces ------------------------------------------------------------------------------

    sync_get_claim_value = sync_method(get_claim_value)
    sync_set_claim_value = sync_method(set_claim_value)
    sync_fetch_and_set_claim = sync_method(fetch_and_set_claim)
    sync_remove_claim = sync_method(remove_claim)
    sync_merge_into_access_token_payload = sync_method(merge_into_access_token_payload)
    sync_assert_claims = sync_method(assert_claims)
    sync_revoke_session = sync_method(revoke_session)
    sync_get_session_data_from_database = sync_method(get_session_data_from_database)
    sync_update_session_data_in_database = sync_method(update_session_data_in_database)
    sync_get_time_created = sync_method(get_time_created)
    sync_get_expiry = sync_method(get_expiry)

    def __repr__(self) -> str:
        return f"SessionContainer(handle={self.get_handle()!r}, user_id={self.get_user_id()!r})"
