"""Password hashing off the event loop, with a process-wide cap on concurrent hashes.

argon2id at the default parameters takes about 20 ms and 19 MiB per hash. Under an event loop
each hash runs on a small dedicated thread pool (so the loop keeps serving); in sync mode it
runs in the calling thread. Either way at most :data:`MAX_CONCURRENT_HASHES` (the CPU count)
run at once in the process, so a flood of sign-ins queues instead of exhausting memory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bastion.bridge import run_blocking
from bastion.core.passwords import PasswordHasher, PasswordHashing

__all__ = ["MAX_CONCURRENT_HASHES", "AsyncPasswordHasher"]

T = TypeVar("T")

MAX_CONCURRENT_HASHES = max(1, os.cpu_count() or 1)
_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
_executor = ThreadPoolExecutor(max_workers=MAX_CONCURRENT_HASHES, thread_name_prefix="bastion-hash")


def _limited(fn: Callable[[], T]) -> T:
    with _slots:
        return fn()


class AsyncPasswordHasher:
    """:class:`~bastion.core.passwords.PasswordHasher` as awaitables that never block a loop.

    ``verifications`` and ``hashes`` count the work done (observable in tests and metrics).
    """

    def __init__(self, params: PasswordHashing | None = None) -> None:
        self.core = PasswordHasher(params)
        self.verifications = 0
        self.hashes = 0
        self._count_lock = threading.Lock()

    @property
    def params(self) -> PasswordHashing:
        return self.core.params

    def is_too_long(self, password: str) -> bool:
        return self.core.is_too_long(password)

    def needs_rehash(self, stored: str) -> bool:
        return self.core.needs_rehash(stored)

    async def _run(self, fn: Callable[[], T]) -> T:
        return await run_blocking(lambda: _limited(fn), executor=_executor)

    async def hash(self, password: str) -> str:
        """An argon2id hash (raises ValueError if the password is too long)."""
        with self._count_lock:
            self.hashes += 1
        return await self._run(lambda: self.core.hash(password))

    async def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored``."""
        with self._count_lock:
            self.verifications += 1
        return await self._run(lambda: self.core.verify(stored, password))

    async def dummy_hash(self) -> str:
        return await self._run(self.core.dummy_hash)
