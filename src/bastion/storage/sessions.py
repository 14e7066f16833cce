"""Sessions and their refresh-token chain: the protocol and its SQL."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bastion.core.payload import merge_payload
from bastion.storage.sql import Row, SQLStoreBase, Tx, query, transaction

__all__ = ["SessionQueries", "SessionRecord", "SessionStore"]


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

    async def create_session(self, record: SessionRecord) -> None:
        """Insert a new session (its handle is fresh and random)."""
        ...

    async def get_session(self, handle: str) -> SessionRecord | None:
        """The session as last committed, expired or not; None if there is none."""
        ...

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
        """Compare-and-swap the refresh columns; False if ``current`` moved meanwhile.

        One conditional UPDATE: of concurrent callers expecting the same ``current`` exactly one
        wins, on every process; the losers re-read and decide again.
        """
        ...

    async def merge_access_payload(
        self, handle: str, update: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Merge ``update`` into the stored payload; None if no session.

        The row is locked while the merge is computed, so concurrent merges are all kept.
        """
        ...

    async def update_session_data(self, handle: str, data: Mapping[str, Any]) -> bool:
        """Replace the server-side data (last writer wins); False if no session."""
        ...

    async def delete_sessions(self, handles: list[str]) -> list[str]:
        """Delete these sessions, returning the handles that existed (each reported by exactly
        one of concurrent callers)."""
        ...

    async def list_session_handles(
        self, user_id: str, *, tenant_id: str | None, now_ms: int
    ) -> list[str]:
        """Handles of the user's unexpired sessions (in every tenant when ``tenant_id`` is None),
        oldest first."""
        ...


_COLUMNS = (
    "handle, user_id, recipe_user_id, tenant_id, access_payload, session_data, current_hash2, "
    "prev_hash2, rotated_at_ms, created_at_ms, expires_at_ms"
)
_INSERT = f"INSERT INTO sessions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608
_SELECT = f"SELECT {_COLUMNS} FROM sessions WHERE handle = ?"  # noqa: S608


def _record(row: Row) -> SessionRecord:
    return SessionRecord(
        row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), *row[6:]
    )


def _marks(values: list[str]) -> str:
    return ",".join("?" * len(values))


class SessionQueries(SQLStoreBase):
    """:class:`SessionStore` in SQL."""

    @transaction
    def create_session(self, tx: Tx, record: SessionRecord) -> None:
        tx.execute(
            _INSERT,
            (
                record.handle,
                record.user_id,
                record.recipe_user_id,
                record.tenant_id,
                json.dumps(record.access_payload),
                json.dumps(record.session_data),
                record.current_hash2,
                record.prev_hash2,
                record.rotated_at_ms,
                record.created_at_ms,
                record.expires_at_ms,
            ),
        )

    @query
    def get_session(self, tx: Tx, handle: str) -> SessionRecord | None:
        row = tx.one(_SELECT, (handle,))
        return None if row is None else _record(row)

    @transaction
    def swap_refresh_hash(
        self,
        tx: Tx,
        handle: str,
        *,
        expected_current: str,
        new_current: str,
        new_prev: str | None,
        rotated_at_ms: int | None,
        expires_at_ms: int,
    ) -> bool:
        changed = tx.execute(
            "UPDATE sessions SET current_hash2 = ?, prev_hash2 = ?, rotated_at_ms = ?, "
            "expires_at_ms = ? WHERE handle = ? AND current_hash2 = ?",
            (new_current, new_prev, rotated_at_ms, expires_at_ms, handle, expected_current),
        )
        return changed == 1

    @transaction
    def merge_access_payload(
        self, tx: Tx, handle: str, update: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        row = tx.one(
            "SELECT access_payload FROM sessions WHERE handle = ?", (handle,), for_update=True
        )
        if row is None:
            return None
        merged = merge_payload(json.loads(row[0]), update)
        tx.execute(
            "UPDATE sessions SET access_payload = ? WHERE handle = ?", (json.dumps(merged), handle)
        )
        return merged

    @transaction
    def update_session_data(self, tx: Tx, handle: str, data: Mapping[str, Any]) -> bool:
        changed = tx.execute(
            "UPDATE sessions SET session_data = ? WHERE handle = ?",
            (json.dumps(dict(data)), handle),
        )
        return changed == 1

    async def delete_sessions(self, handles: list[str]) -> list[str]:
        if not handles:
            return []
        # One order for every caller: concurrent multi-row deletes cannot deadlock.
        return await self._delete_sessions(sorted(set(handles)))

    @transaction
    def _delete_sessions(self, tx: Tx, handles: list[str]) -> list[str]:
        rows = tx.all(
            f"DELETE FROM sessions WHERE handle IN ({_marks(handles)}) RETURNING handle",  # noqa: S608
            handles,
        )
        return [r[0] for r in rows]

    @query
    def list_session_handles(
        self, tx: Tx, user_id: str, *, tenant_id: str | None, now_ms: int
    ) -> list[str]:
        sql = "SELECT handle FROM sessions WHERE user_id = ? AND expires_at_ms > ?"
        params: tuple[Any, ...] = (user_id, now_ms)
        if tenant_id is not None:
            sql += " AND tenant_id = ?"
            params += (tenant_id,)
        return [r[0] for r in tx.all(sql + " ORDER BY created_at_ms, handle", params)]
