"""Housekeeping that no request does: deleting what has expired, in small batches."""

from __future__ import annotations

import functools
from typing import Protocol

from bastion.bridge import pause
from bastion.storage.sql import Kind, SQLStoreBase, Tx

__all__ = ["CLEANUP_PAUSE_S", "MaintenanceQueries", "MaintenanceStore"]

CLEANUP_PAUSE_S = 0.01
"""Between batches: SQLite writers waiting on the lock poll every few ms and get their turn."""

# Tables whose rows carry an expires_at_ms after which nothing reads them, with their keys.
EXPIRING_TABLES = (
    ("sessions", "handle"),
    ("user_tokens", "token_hash"),
    ("passwordless_devices", "pre_auth_session_id"),
)


class MaintenanceStore(Protocol):
    """Housekeeping that no request does."""

    async def delete_expired(self, now_ms: int, *, batch_size: int | None = None) -> dict[str, int]:
        """Delete rows whose lifetime is over (sessions, one-time tokens, login codes).

        Works in batches of ``batch_size`` rows (by default the database's ``cleanup_batch``:
        100 on SQLite, 1000 on PostgreSQL), each its own short transaction, pausing
        :data:`CLEANUP_PAUSE_S` between them, so requests never wait long for a lock. A row
        that a concurrent write makes live again (a refresh extending its session) is kept.
        Safe to run from several processes at once. Returns how many rows went, per table.
        """
        ...


def _delete_batch(table: str, key: str, now_ms: int, limit: int, tx: Tx) -> int:
    # The outer condition is checked again on the row as it is when deleted (PostgreSQL re-reads
    # rows that changed under it): a session refreshed meanwhile stays.
    return tx.execute(
        f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} "  # noqa: S608 - fixed names
        "WHERE expires_at_ms <= ? LIMIT ?) AND expires_at_ms <= ?",
        (now_ms, limit, now_ms),
    )


class MaintenanceQueries(SQLStoreBase):
    """:class:`MaintenanceStore` in SQL."""

    async def delete_expired(self, now_ms: int, *, batch_size: int | None = None) -> dict[str, int]:
        if batch_size is None:
            batch_size = self._db.cleanup_batch
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        deleted: dict[str, int] = {}
        for table, key in EXPIRING_TABLES:
            batch = functools.partial(_delete_batch, table, key, now_ms, batch_size)
            total = 0
            while True:
                count = await self._run(Kind.WRITE, batch)
                total += count
                if count < batch_size:
                    break
                await pause(CLEANUP_PAUSE_S)
            deleted[table] = total
        return deleted
