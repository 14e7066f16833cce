"""The one place bastion reads the time.

Every expiry, rotation and claim age goes through a :class:`Clock`, so tests move time by
injecting a :class:`ManualClock` instead of patching :func:`time.time`.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of wall-clock time in integer milliseconds since the Unix epoch."""

    def now_ms(self) -> int:
        """Return the current time in milliseconds since the epoch."""
        ...


class SystemClock:
    """The real clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to; safe to share between threads."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = start_ms if start_ms is not None else time.time_ns() // 1_000_000
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return self._now

    def advance(self, seconds: float = 0, *, ms: int = 0) -> None:
        """Move the clock forward (or backward, with a negative amount)."""
        with self._lock:
            self._now += int(seconds * 1000) + ms

    def set(self, now_ms: int) -> None:
        """Jump to an absolute time."""
        with self._lock:
            self._now = now_ms

    def __repr__(self) -> str:
        return f"ManualClock({self._now})"
