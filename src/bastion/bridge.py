"""Run bastion's async-defined logic from synchronous code, without an event loop.

bastion writes each piece of logic once, as ``async def``. In a synchronous deployment (Flask,
Django under WSGI) nothing it awaits ever needs to suspend: storage calls are synchronous
underneath and user callbacks are plain functions. Such a coroutine can be driven to the end with
a single ``send(None)``, which is what :func:`run_sync` does. No loop is created, none is
re-entered, and a running loop in the same thread is left alone.

If something awaited does try to suspend (an ``async`` user callback waiting on real I/O), the
coroutine is closed and :class:`SyncDriveError` says which call cannot run in sync mode.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from bastion.errors import ConfigError

__all__ = ["SyncDriveError", "maybe_await", "run_sync", "sync_method", "syncify"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


class SyncDriveError(ConfigError):
    """An awaited call needed an event loop while bastion was running synchronously."""


def run_sync(coro: Coroutine[Any, Any, R]) -> R:
    """Drive ``coro`` to completion in the calling thread and return its result."""
    try:
        yielded = coro.send(None)
    except StopIteration as done:
        return cast("R", done.value)
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
    if inspect.isawaitable(value):
        return await value
    return value
