"""Run bastion's async-defined logic from synchronous code, without an event loop.

bastion writes each piece of logic once, as ``async def``. In a synchronous deployment (Flask,
Django under WSGI) nothing it awaits ever needs to suspend: storage work and password hashing are
synchronous underneath (:func:`run_blocking` runs them inline there, and hands them to a thread
under an event loop) and user callbacks are plain functions. Such a coroutine can be driven to
the end with a single ``send(None)``, which is what :func:`run_sync` does. No loop is created,
none is re-entered, and a running loop in the same thread is left alone.

If something awaited does try to suspend (an ``async`` user callback waiting on real I/O), the
coroutine is closed and :class:`SyncDriveError` says which call cannot run in sync mode.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from bastion.errors import ConfigError

__all__ = [
    "SyncDriveError",
    "maybe_await",
    "pause",
    "run_blocking",
    "run_sync",
    "sync_method",
    "syncify",
]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


class SyncDriveError(ConfigError):
    """An awaited call needed an event loop while bastion was running synchronously."""


# True while run_sync drives a coroutine: awaitables then must finish without suspending.
_driving_sync: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "bastion_driving_sync", default=False
)


def run_sync(coro: Coroutine[Any, Any, R]) -> R:
    """Drive ``coro`` to completion in the calling thread and return its result."""
    token = _driving_sync.set(True)
    try:
        yielded = coro.send(None)
    except StopIteration as done:
        return cast("R", done.value)
    finally:
        _driving_sync.reset(token)
    coro.close()
    raise SyncDriveError(
        "an awaited call suspended while bastion was running synchronously "
        f"(it yielded {yielded!r}); callbacks used from sync code must not wait on async I/O"
    )


def syncify(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """Return the synchronous face of an async function: same signature, same logic."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return run_sync(fn(*args, **kwargs))

    return wrapper


def sync_method(
    fn: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], R]:
    """Like :func:`syncify`, for methods (keeps the ``self`` parameter typed)."""

    @functools.wraps(fn)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return run_sync(fn(self, *args, **kwargs))

    return wrapper


async def maybe_await(value: Awaitable[R] | R) -> R:
    """Await ``value`` if a user callback returned an awaitable, else return it as is."""
    if hasattr(value, "__await__"):
        return await cast("Awaitable[R]", value)
    return value


async def run_blocking(
    fn: Callable[[], R], *, executor: Executor | Callable[[], Executor] | None = None
) -> R:
    """Run CPU-heavy or blocking ``fn`` without stalling an event loop.

    Under an asyncio loop ``fn`` runs in ``executor`` (the loop's default when None) and the
    caller awaits it; driven by :func:`run_sync`, or with no running loop, it runs inline in the
    calling thread, so the awaiting coroutine never suspends. ``executor`` may be a factory: it
    is called only when the work is handed to a thread, so a pool exists only where one is used.
    """
    if _driving_sync.get():
        return fn()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    if executor is not None and not isinstance(executor, Executor):
        executor = executor()
    return await loop.run_in_executor(executor, fn)


async def pause(seconds: float) -> None:
    """Wait ``seconds``: on the event loop if one runs, else by sleeping in this thread.

    Driven by :func:`run_sync` the coroutine must not suspend, so the calling thread sleeps.
    """
    if _driving_sync.get():
        time.sleep(seconds)
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        time.sleep(seconds)
        return
    await asyncio.sleep(seconds)
