"""The event loop never waits for the database.

A FastAPI process (uvicorn, in its own process so that the test's threads do not share its GIL)
times every callback its loop runs, while 50 clients refresh sessions and sign in as fast as they
can, a cleanup deletes 10,000 expired sessions in batches of 500 on the same loop, and another
client of the database keeps taking, for 250 ms at a time, the lock every request needs
(SQLite's write lock; on PostgreSQL the rows of the request counters), as a slow writer in
another process would. The longest callback is the longest time the loop could serve nobody.

The bound, 50 ms, a fifth of the 250 ms that one unit of storage work waits here: had any unit
run on the loop, a callback would have lasted that whole wait (``BASTION_TEST_INLINE_STORAGE=1``
runs the same load that way: ~360 ms). What remains is bastion's own CPU work between two
awaits (an RS256 signature is ~1 ms) and waiting for the GIL that the store's threads hold for up
to a switch interval (5 ms) each: ~20 ms on this 2-core machine. Garbage-collector pauses (any
Python program has them) and time the OS gave the loop thread no CPU are measured apart
(``tests/cluster/probe_app.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bastion.storage import open_store
from tests.conftest import free_port
from tests.databases import Databases, fill_sessions

ROOT = Path(__file__).resolve().parents[2]
MAX_STALL_MS = 50
LOCK_HOLD_S = 0.25
EXPIRED_SESSIONS = 10_000
CLIENTS = 50
FDI = {"st-auth-mode": "header", "fdi-version": "4.0"}
PASSWORD = "correct horse 1"


def fill_expired(url: str, count: int) -> None:
    store = open_store(url)
    fill_sessions(store, count, expired_every=1, prefix="x", live_until_ms=0)
    store.close()


def start_probe_server(url: str, folder: Path, *, inline: bool = False) -> tuple[Any, str, Any]:
    port = free_port()
    clock_file = folder / "offset_ms"
    clock_file.write_text("0")
    env = {
        **os.environ,
        "BASTION_DATABASE_URL": url,
        "BASTION_TEST_CLOCK_FILE": str(clock_file),
        "BASTION_TEST_INLINE_STORAGE": "1" if inline else "0",
        "PYTHONPATH": str(ROOT),
    }
    log = (folder / f"probe-{port}.log").open("wb")
    options = (
        "--factory tests.cluster.probe_app:probe_app --host 127.0.0.1 --loop asyncio --http h11 "
        "--lifespan off --log-level warning --backlog 512"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *options.split(), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, (folder / f"probe-{port}.log").read_text()
        try:
            if httpx.get(base + "/health").status_code == 200:
                return process, base, log
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the probe server did not start"
        time.sleep(0.1)


def run_load(base: str, *, min_seconds: float, until: Any) -> dict[str, Any]:
    """50 clients: half refresh their session in a loop, half sign in; returns the tallies."""
    http = httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=CLIENTS))
    for i in range(CLIENTS):
        form = {"formFields": [{"id": "email", "value": f"load-{i}@example.com"},
                               {"id": "password", "value": PASSWORD}]}  # fmt: skip
        response = http.post("/auth/signup", json=form, headers={**FDI, "rid": "emailpassword"})
        assert response.json()["status"] == "OK", response.text
    tokens = {}
    statuses: list[int] = []
    waits: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    barrier = threading.Barrier(CLIENTS + 1)

    def client(i: int) -> None:
        form = {"formFields": [{"id": "email", "value": f"load-{i}@example.com"},
                               {"id": "password", "value": PASSWORD}]}  # fmt: skip
        signed = http.post("/auth/signin", json=form, headers={**FDI, "rid": "emailpassword"})
        tokens[i] = signed.headers["st-refresh-token"]
        barrier.wait()
        while not done.is_set():
            started = time.perf_counter()
            if i % 2:
                answer = http.post(
                    "/auth/signin", json=form, headers={**FDI, "rid": "emailpassword"}
                )
            else:
                answer = http.post(
                    "/auth/session/refresh",
                    headers={**FDI, "rid": "session", "authorization": f"Bearer {tokens[i]}"},
                )
                tokens[i] = answer.headers.get("st-refresh-token", tokens[i])
            with lock:
                statuses.append(answer.status_code)
                waits.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    http.post("/probe/reset")
    until.start()
    while time.monotonic() - started < min_seconds or not until.done():
        assert time.monotonic() - started < 120, "the cleanup did not finish"
        time.sleep(0.2)
    done.set()
    for thread in threads:
        thread.join()
    probe = http.get("/probe").json()
    http.close()
    waits.sort()
    return {
        "statuses": statuses,
        "probe": probe,
        "requests": len(statuses),
        "p50_ms": round(waits[len(waits) // 2] * 1000, 1),
        "max_ms": round(waits[-1] * 1000, 1),
    }


class LockHolder:
    """Another client of the database that keeps taking, for ``hold_s`` at a time, the lock that
    every request needs: SQLite's write lock, or PostgreSQL's rows of the request counters (every
    ``/auth`` request counts itself first). A slow writer in another process does the same."""

    def __init__(self, url: str, hold_s: float, gap_s: float) -> None:
        self.url, self.hold_s, self.gap_s = url, hold_s, gap_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.held = 0

    def __enter__(self) -> LockHolder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        if self.url.startswith("sqlite"):
            import sqlite3

            conn: Any = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            take = ["BEGIN IMMEDIATE"]
        else:
            import psycopg

            from bastion.storage.postgres import PostgresSettings

            conn = psycopg.connect(PostgresSettings.from_url(self.url).conninfo, autocommit=True)
            take = ["BEGIN", "SELECT 1 FROM rate_counters FOR UPDATE"]
        try:
            while not self.stop.wait(self.gap_s):
                for statement in take:
                    conn.execute(statement)
                self.held += 1
                time.sleep(self.hold_s)
                conn.execute("COMMIT")
        finally:
            conn.close()


class Cleanup:
    """Starts the cleanup on the server's loop and tells when it is over."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.state: dict[str, Any] = {}

    def start(self) -> None:
        assert httpx.post(self.base + "/probe/cleanup").json() == {"started": True}

    def done(self) -> bool:
        self.state = httpx.get(self.base + "/probe/cleanup").json()
        return "deleted" in self.state


@pytest.fixture
def probe_server(databases: Databases, tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = databases.fresh("probe").replace("pool_max=4", "pool_max=10")
    fill_expired(url, EXPIRED_SESSIONS)
    process, base, log = start_probe_server(url, tmp_path)
    yield base, url
    process.terminate()
    process.wait(timeout=20)
    log.close()


def test_the_loop_never_stalls_on_the_database(probe_server: tuple[str, str]) -> None:
    base, url = probe_server
    cleanup = Cleanup(base)
    with LockHolder(url, hold_s=LOCK_HOLD_S, gap_s=LOCK_HOLD_S) as holder:
        result = run_load(base, min_seconds=2, until=cleanup)
    assert holder.held > 3
    assert set(result["statuses"]) == {200}, result
    assert cleanup.state["deleted"]["sessions"] == EXPIRED_SESSIONS
    assert result["requests"] > CLIENTS * 2
    probe = result["probe"]
    assert probe["unit_max_ms"] > LOCK_HOLD_S * 1000 * 0.8, probe  # units did wait for the lock
    assert probe["max_stall_ms"] < MAX_STALL_MS, probe
