"""Throttling counters: the protocol and its SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bastion.storage.sql import SQLStoreBase, Tx, query, transaction

__all__ = ["CounterQueries", "CounterState", "CounterStore"]

NO_CONSECUTIVE_LIMIT = 2**62


@dataclass(frozen=True, slots=True)
class CounterState:
    """A throttling counter."""

    hits: int
    """Attempts in the current window."""
    consecutive: int
    """Attempts since the last reset, across windows."""
    window_start_ms: int


class CounterStore(Protocol):
    """Throttling counters, each keyed by ``(name, key)``; every call is atomic."""

    async def take_counter(
        self,
        name: str,
        key: str,
        *,
        now_ms: int,
        window_ms: int,
        max_hits: int,
        max_consecutive: int | None,
    ) -> tuple[bool, CounterState]:
        """Count one attempt unless the window already has ``max_hits`` or the counter has
        reached ``max_consecutive``; a window older than ``window_ms`` starts afresh.

        Returns whether the attempt was counted, and the counter's state. The check and the
        increment are one conditional UPDATE, so however many processes call at once, no more
        than ``max_hits`` attempts are counted in a window.
        """
        ...

    async def get_counter(self, name: str, key: str) -> CounterState | None: ...

    async def refund_counter(self, name: str, key: str) -> None:
        """Take back one attempt (an attempt that turned out not to be a failure); never
        below zero."""
        ...

    async def clear_counter(self, name: str, key: str) -> None: ...


_STATE = "hits, consecutive, window_start_ms"


class CounterQueries(SQLStoreBase):
    """:class:`CounterStore` in SQL."""

    @transaction
    def take_counter(
        self,
        tx: Tx,
        name: str,
        key: str,
        *,
        now_ms: int,
        window_ms: int,
        max_hits: int,
        max_consecutive: int | None,
    ) -> tuple[bool, CounterState]:
        stale = now_ms - window_ms  # a window that started at or before this is over
        cap = NO_CONSECUTIVE_LIMIT if max_consecutive is None else max_consecutive
        tx.execute(
            "INSERT INTO rate_counters (name, counter_key, window_start_ms, hits, consecutive) "
            "VALUES (?, ?, ?, 0, 0) ON CONFLICT (name, counter_key) DO NOTHING",
            (name, key, now_ms),
        )
        # One conditional UPDATE: the check and the increment cannot be separated.
        row = tx.one(
            "UPDATE rate_counters SET "  # noqa: S608
            "hits = CASE WHEN window_start_ms <= ? THEN 1 ELSE hits + 1 END, "
            "window_start_ms = CASE WHEN window_start_ms <= ? THEN ? ELSE window_start_ms END, "
            "consecutive = consecutive + 1 "
            "WHERE name = ? AND counter_key = ? AND consecutive < ? "
            f"AND (window_start_ms <= ? OR hits < ?) RETURNING {_STATE}",
            (stale, stale, now_ms, name, key, cap, stale, max_hits),
        )
        if row is not None:
            return True, CounterState(*row)
        row = tx.one(
            f"SELECT {_STATE} FROM rate_counters WHERE name = ? AND counter_key = ?",  # noqa: S608
            (name, key),
        )
        if row is None:  # pragma: no cover - the insert above made the row
            return False, CounterState(0, 0, now_ms)
        return False, CounterState(*row)

    @query
    def get_counter(self, tx: Tx, name: str, key: str) -> CounterState | None:
        row = tx.one(
            f"SELECT {_STATE} FROM rate_counters WHERE name = ? AND counter_key = ?",  # noqa: S608
            (name, key),
        )
        return None if row is None else CounterState(*row)

    @transaction
    def refund_counter(self, tx: Tx, name: str, key: str) -> None:
        tx.execute(
            "UPDATE rate_counters SET "
            "hits = CASE WHEN hits > 0 THEN hits - 1 ELSE 0 END, "
            "consecutive = CASE WHEN consecutive > 0 THEN consecutive - 1 ELSE 0 END "
            "WHERE name = ? AND counter_key = ?",
            (name, key),
        )

    @transaction
    def clear_counter(self, tx: Tx, name: str, key: str) -> None:
        tx.execute("DELETE FROM rate_counters WHERE name = ? AND counter_key = ?", (name, key))
