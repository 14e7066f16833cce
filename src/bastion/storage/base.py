"""The storage protocols.

Every method is a coroutine. Backends whose driver is synchronous (``sqlite3``) never suspend, so
the same logic also runs under :func:`bastion.bridge.run_sync` in sync frameworks.

Multi-step writes are single calls here, each one transaction in the backend; the decisions they
need are pure functions from :mod:`bastion.core`, so every backend makes them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bastion.core.keys import SigningKey

__all__ = ["KeyStore", "SessionRecord", "SessionStore", "Store"]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session row."""

    handle: str
    user_id: str
    recipe_user_id: str
    tenant_id: str
    access_payload: dict[str, Any]
    """Custom claims of the access token (``userDataInJWT``)."""
    session_data: dict[str, Any]
    """Server-side data (``userDataInDatabase``), never sent to the client."""
    current_hash2: str
    prev_hash2: str | None
    rotated_at_ms: int | None
    created_at_ms: int
    expires_at_ms: int


class SessionStore(Protocol):
    """Sessions and their refresh-token chain."""

    async def create_session(self, record: SessionRecord) -> None: ...

    async def get_session(self, handle: str) -> SessionRecord | None: ...

    async def swap_refresh_hash(
        self,
        handle: str,
        *,
        expected_current: str,
        new_current: str,
        new_prev: str | None,
        rotated_at_ms: int | None,
        expires_at_ms: int,
    ) -> bool:
        """Compare-and-swap the refresh columns; False if ``current`` moved meanwhile."""
        ...

    async def merge_access_payload(
        self, handle: str, update: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Merge ``update`` into the stored payload in one transaction; None if no session."""
        ...

    async def update_session_data(self, handle: str, data: Mapping[str, Any]) -> bool: ...

    async def delete_sessions(self, handles: list[str]) -> list[str]:
        """Delete these sessions, returning the handles that existed."""
        ...

    async def list_session_handles(
        self, user_id: str, *, tenant_id: str | None, now_ms: int
    ) -> list[str]:
        """Handles of the user's unexpired sessions (in every tenant when ``tenant_id`` is None)."""
        ...


class KeyStore(Protocol):
    """Signing keys and server secrets."""

    async def list_signing_keys(self) -> list[SigningKey]: ...

    async def add_signing_key(self, key: SigningKey, *, slot: str, expired: list[str]) -> None:
        """Insert ``key`` unless ``slot`` is taken (another process won), and drop ``expired``."""
        ...

    async def get_or_create_secret(self, name: str, candidate: bytes) -> bytes:
        """Return the secret called ``name``, storing ``candidate`` first if there is none."""
        ...


class Store(SessionStore, KeyStore, Protocol):
    """Everything bastion keeps."""

    def close(self) -> None: ...
