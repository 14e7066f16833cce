"""The storage contract: every store method, on every backend (``[sqlite]`` and ``[postgres]``).

``race`` runs callers at once on threads, each driving the store synchronously (the path of
Flask, Django under WSGI and the command line: the unit of work runs in the calling thread, with
its own connection); ``gather`` runs them as tasks on one event loop (the path of FastAPI and
Django under ASGI: each unit is handed to the store's executor).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bastion.bridge import run_sync
from bastion.storage import open_store
from bastion.storage.base import Store
from tests.databases import Databases

T = TypeVar("T")
T0 = 1_800_000_000_000


@pytest.fixture
def store(databases: Databases) -> Iterator[Store]:
    opened = open_store(databases.fresh("contract"))
    yield opened
    opened.close()


def run(awaitable: Awaitable[T]) -> T:
    return run_sync(awaitable)  # type: ignore[arg-type]


def race(n: int, call: Callable[[int], Awaitable[T]]) -> list[T]:
    """``call(i)`` for i in range(n), started together on n threads; results in order of i."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = run_sync(call(i))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def gather(n: int, call: Callable[[int], Awaitable[T]]) -> list[T]:
    """``call(i)`` for i in range(n) as concurrent tasks on one event loop."""

    async def all_of() -> list[T]:
        return list(await asyncio.gather(*(call(i) for i in range(n))))

    return asyncio.run(all_of())


@pytest.fixture(params=["threads", "tasks"])
def concurrently(
    request: pytest.FixtureRequest,
) -> Callable[[int, Callable[[int], Awaitable[Any]]], list[Any]]:
    """Either of :func:`race` (threads, inline units) and :func:`gather` (tasks, executor)."""
    return race if request.param == "threads" else gather
