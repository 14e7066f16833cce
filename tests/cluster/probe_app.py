"""The cluster app (FastAPI) with an event-loop stall probe, for the loop-lag test.

Every callback the loop runs is timed (``asyncio.Handle._run`` wrapped in this process only);
the probe reports the longest one, which is how long the loop could not serve anybody. Pauses of
the cyclic garbage collector (any Python program has them, on every thread) are reported apart
and not counted in the callback they interrupted, nor is time the loop thread was runnable but
not given a CPU by the OS (a loaded 2-core machine; ``max_wall_ms`` keeps both in). Work that
blocks on the database inside a callback (a SQLite lock wait, a PostgreSQL round trip, a cleanup
batch) would show up there whole. ``BASTION_TEST_INLINE_STORAGE=1`` runs every unit of work on the
loop thread instead of the store's executor: the blocking design, for comparison (bench only).

Routes: ``POST /probe/reset``; ``GET /probe`` (the longest stall, the slowest callbacks, GC
pauses, and how long the units of storage work took);
``POST /probe/cleanup`` starts ``delete_expired`` as a task on the loop; ``GET /probe/cleanup``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from typing import Any

from tests.cluster import app as cluster_app


class StallProbe:
    def __init__(self) -> None:
        self.max_s = 0.0
        self.worst = ""
        self.callbacks = 0
        self.slow: list[tuple[float, str]] = []
        self.max_wall_s = 0.0
        self._schedstat: int | None = None
        self.gc_max_s = 0.0
        self.gc_total_s = 0.0
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        # Cyclic garbage collection pauses every thread of any Python program, whatever its
        # storage does: measured apart, and taken out of the callback it interrupted.
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            took = time.perf_counter() - self._gc_started
            self.gc_total_s += took
            self.gc_max_s = max(self.gc_max_s, took)

    def install(self) -> None:
        original = asyncio.events.Handle._run
        probe = self

        def timed(handle: asyncio.events.Handle) -> None:
            queued_before = probe.run_queue_s()
            started, gc_before = time.perf_counter(), probe.gc_total_s
            try:
                original(handle)
            finally:
                wall = time.perf_counter() - started - (probe.gc_total_s - gc_before)
                probe.max_wall_s = max(probe.max_wall_s, wall)
                took = wall - (probe.run_queue_s() - queued_before)
                probe.callbacks += 1
                if took > probe.max_s:
                    probe.max_s = took
                    probe.worst = _describe(handle)
                if took > 0.01:
                    probe.slow.append((round(took * 1000, 1), _describe(handle)))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]

    def run_queue_s(self) -> float:
        """How long the loop thread has waited, runnable, for a CPU (Linux schedstat).

        On a busy machine the OS may not run the loop thread for a while although nothing
        blocks it; that wait is the machine's, not bastion's, and is taken out too.
        """
        if self._schedstat is None:
            try:
                self._schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
            except OSError:
                self._schedstat = -1
        if self._schedstat < 0:
            return 0.0
        return int(os.pread(self._schedstat, 100, 0).split()[1]) / 1e9

    def reset(self) -> None:
        self.max_s, self.worst, self.callbacks = 0.0, "", 0
        self.slow, self.gc_max_s, self.max_wall_s = [], 0.0, 0.0


def _describe(handle: asyncio.events.Handle) -> str:
    """The task's coroutine and where it stopped next (the end of the slow step)."""
    task = getattr(getattr(handle, "_callback", None), "__self__", None)
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    name = str(getattr(coro, "__qualname__", None) or repr(handle))[:80]
    where = []
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        frame = coro.cr_frame
        where.append(f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None)
    return name + " @ " + " > ".join(where[-4:])


def probe_app() -> Any:
    from bastion.runtime import current_app

    if os.environ.get("BASTION_TEST_INLINE_STORAGE") == "1":
        from bastion.storage.sql import SQLStoreBase

        async def inline(self: Any, kind: Any, work: Any) -> Any:
            return self._db.run(kind, work)

        SQLStoreBase._run = inline  # type: ignore[method-assign]
    app = cluster_app.fastapi_app()
    probe = StallProbe()
    probe.install()
    units: list[float] = []
    database = current_app().store.database  # type: ignore[attr-defined]
    run_unit = database.run

    def timed_unit(kind: Any, work: Any) -> Any:
        started = time.perf_counter()
        try:
            return run_unit(kind, work)
        finally:
            units.append(time.perf_counter() - started)

    database.run = timed_unit
    cleanup: dict[str, Any] = {}

    @app.post("/probe/reset")
    async def reset() -> dict[str, bool]:
        probe.reset()
        units.clear()
        return {"ok": True}

    @app.get("/probe")
    async def read() -> dict[str, Any]:
        return {
            "max_stall_ms": round(probe.max_s * 1000, 2),
            "max_wall_ms": round(probe.max_wall_s * 1000, 2),
            "worst": probe.worst,
            "callbacks": probe.callbacks,
            "slow": sorted(probe.slow, reverse=True)[:10],
            "gc_max_ms": round(probe.gc_max_s * 1000, 2),
            # How long units of storage work took (in the store's threads, or inline): what a
            # callback would have lasted had the unit run on the loop.
            "units": len(units),
            "unit_p50_ms": round(sorted(units)[len(units) // 2] * 1000, 2) if units else 0,
            "unit_max_ms": round(max(units, default=0) * 1000, 2),
        }

    @app.post("/probe/cleanup")
    async def start_cleanup() -> dict[str, bool]:
        bastion = current_app()

        async def run() -> None:
            started = time.perf_counter()
            cleanup["deleted"] = await bastion.store.delete_expired(
                bastion.clock.now_ms(), batch_size=500
            )
            cleanup["seconds"] = round(time.perf_counter() - started, 2)

        cleanup.clear()
        cleanup["task"] = asyncio.get_running_loop().create_task(run())
        return {"started": True}

    @app.get("/probe/cleanup")
    async def cleanup_state() -> dict[str, Any]:
        return {k: v for k, v in cleanup.items() if k != "task"}

    return app
