"""Storage on SQLite and PostgreSQL: the thread hop, the hot operations, lookups at scale, and a
cleanup of a large table while refreshes run. Every figure is a ratio against a baseline measured
in the same run.

    .venv/bin/python bench/bench_storage.py [hop] [ops] [lookup] [cleanup]

PostgreSQL parts need ``BASTION_BENCH_POSTGRES_URL`` (or ``BASTION_TEST_POSTGRES_URL``): a database
in which this benchmark may create and drop the schemas ``bench_*``.

- hop: the same unit of work (a session read; a compare-and-swap write) driven inline, as Flask
  and the command line do, and awaited under an event loop, which hands it to the store's
  executor. Reports µs per call and what the hop adds.
- ops: sign-in (argon2id at a tiny cost, so that storage shows), refresh, and ``verify_session``
  with ``check_database=True`` through FastAPI in process; SQLite vs PostgreSQL.
- lookup: ``get_session`` on PostgreSQL with 10,000 sessions stored, then with 1,000,000.
- cleanup: 1,000,000 sessions, 25 % expired; eight clients refresh through a uvicorn process
  while ``bastion cleanup`` runs in its own process (batches of 100 on SQLite, 1000 on
  PostgreSQL). The slowest refresh is
  compared with the same load without a cleanup, and with a cleanup done as one DELETE (after
  250,000 more expired rows are put back).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.databases import fill_sessions as fill  # noqa: E402

from bastion.bridge import run_sync  # noqa: E402
from bastion.storage import open_store  # noqa: E402
from bastion.storage.base import SessionRecord, Store  # noqa: E402
from bastion.storage.sql import Kind  # noqa: E402

NOW = 1_800_000_000_000
PG = os.environ.get("BASTION_BENCH_POSTGRES_URL") or os.environ.get("BASTION_TEST_POSTGRES_URL")


# -- databases ------------------------------------------------------------------------------------


def sqlite_url(name: str) -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/{name}.db"


def postgres_url(name: str, pool_max: int = 10) -> str | None:
    if PG is None:
        return None
    import psycopg

    schema = f"bench_{name}"
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG else "?"
    return f"{PG}{sep}options=-csearch_path%3D{schema}&pool_max={pool_max}"


def drop_schema(name: str) -> None:
    if PG is None:
        return
    import psycopg

    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "bench_{name}" CASCADE')


def backends(name: str) -> list[tuple[str, str]]:
    found = [("sqlite", sqlite_url(name))]
    pg = postgres_url(name)
    if pg is not None:
        found.append(("postgres", pg))
    else:
        print("(PostgreSQL skipped: set BASTION_BENCH_POSTGRES_URL)")
    return found


def fill_sessions(store: Store, count: int, *, expired_every: int = 0, prefix: str = "s") -> None:
    fill(store, count, expired_every=expired_every, prefix=prefix, live_until_ms=NOW * 2)


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


# -- hop ------------------------------------------------------------------------------------------


def bench_hop() -> None:
    print("\n== the thread hop: one unit of work inline vs awaited under an event loop")
    print(f"{'backend':9} {'unit':16} {'inline µs':>10} {'hop µs':>8} {'+µs':>7} {'ratio':>6}")
    for name, url in backends("hop"):
        store = open_store(url)
        record = SessionRecord("h", "u", "u", "public", {}, {}, "c0", None, None, 1, NOW * 2)
        run_sync(store.create_session(record))
        _hop(name, "read a session", lambda store=store: store.get_session("h"))
        _hop(name, "CAS a session", _Swapper(store))
        store.close()
    drop_schema("hop")


class _Swapper:
    """Each call a compare-and-swap that succeeds: c0 -> c1 -> c2 ..."""

    def __init__(self, store: Store) -> None:
        self.store, self.n = store, 0

    def __call__(self) -> Any:
        self.n += 1
        return self.store.swap_refresh_hash(
            "h",
            expected_current=f"c{self.n - 1}",
            new_current=f"c{self.n}",
            new_prev=None,
            rotated_at_ms=None,
            expires_at_ms=NOW * 2,
        )


def _hop(backend: str, unit: str, make: Callable[[], Any], n: int = 2000) -> None:
    async def hopped() -> float:
        started = time.perf_counter()
        for _ in range(n):
            await make()
        return (time.perf_counter() - started) / n

    inline_t: list[float] = []
    hop_t: list[float] = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            run_sync(make())
        inline_t.append((time.perf_counter() - started) / n)
        hop_t.append(asyncio.run(hopped()))
    inline, hop = median_us(inline_t), median_us(hop_t)
    print(
        f"{backend:9} {unit:16} {inline:10.1f} {hop:8.1f} {hop - inline:7.1f} {hop / inline:6.2f}"
    )


# -- sign-in, refresh, verify ---------------------------------------------------------------------


def bench_ops() -> None:
    from tests.cluster import app as cluster_app

    import bastion
    from bastion.core.passwords import PasswordHashing
    from bastion.recipe import emailpassword, session

    print("\n== FastAPI in process, one request at a time (argon2id at 1 MiB, t=1)")
    results: dict[str, dict[str, float]] = {}
    for name, url in backends("ops"):
        bastion.init(
            app_info=bastion.InputAppInfo(
                app_name="b", api_domain="http://t", website_domain="http://t"
            ),
            recipe_list=[
                session.init(),
                emailpassword.init(
                    password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=1024)
                ),
            ],
            database_url=url,
            api_requests_per_minute=None,
        )
        os.environ.setdefault(cluster_app.CLOCK_FILE, "/dev/null")
        from fastapi import Depends, FastAPI

        from bastion.framework.fastapi import get_middleware
        from bastion.recipe.session.framework.fastapi import verify_session

        app = FastAPI()
        app.add_middleware(get_middleware())

        @app.get("/verify-db")
        async def verify_db(
            s: Any = Depends(verify_session(check_database=True)),
        ) -> dict[str, str]:
            return {"user": s.get_user_id()}

        results[name] = asyncio.run(_ops(app))
    print(
        f"{'operation':26} "
        + " ".join(f"{n + ' µs':>12}" for n in results)
        + (f" {'pg/sqlite':>10}" if len(results) > 1 else "")
    )
    for op in ("sign-in", "refresh", "verify check_database"):
        cells = " ".join(f"{results[n][op]:12.0f}" for n in results)
        ratio = (
            f" {results['postgres'][op] / results['sqlite'][op]:10.2f}" if len(results) > 1 else ""
        )
        print(f"{op:26} {cells}{ratio}")
    drop_schema("ops")


async def _ops(app: Any) -> dict[str, float]:
    transport = httpx.ASGITransport(app=app)
    headers = {"st-auth-mode": "header", "rid": "emailpassword"}
    form = {
        "formFields": [
            {"id": "email", "value": "b@example.com"},
            {"id": "password", "value": "correct horse 1"},
        ]
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/auth/signup", json=form, headers=headers)).json()[
            "status"
        ] == "OK"
        signed = await client.post("/auth/signin", json=form, headers=headers)
        refresh = signed.headers["st-refresh-token"]
        access = signed.headers["st-access-token"]
        timings: dict[str, list[float]] = {
            "sign-in": [],
            "refresh": [],
            "verify check_database": [],
        }
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(100):
                assert (
                    await client.post("/auth/signin", json=form, headers=headers)
                ).status_code == 200
            timings["sign-in"].append((time.perf_counter() - started) / 100)
            started = time.perf_counter()
            for _ in range(300):
                answer = await client.post(
                    "/auth/session/refresh",
                    headers={
                        "st-auth-mode": "header",
                        "rid": "session",
                        "authorization": f"Bearer {refresh}",
                    },
                )
                refresh, access = (
                    answer.headers["st-refresh-token"],
                    answer.headers["st-access-token"],
                )
            timings["refresh"].append((time.perf_counter() - started) / 300)
            started = time.perf_counter()
            for _ in range(500):
                answer = await client.get(
                    "/verify-db", headers={"authorization": f"Bearer {access}"}
                )
                assert answer.status_code == 200
            timings["verify check_database"].append((time.perf_counter() - started) / 500)
    return {op: median_us(t) for op, t in timings.items()}


# -- lookups at scale -----------------------------------------------------------------------------


def bench_lookup() -> None:
    url = postgres_url("lookup")
    if url is None:
        print("\n== lookup skipped: set BASTION_BENCH_POSTGRES_URL")
        return
    print("\n== get_session on PostgreSQL: 10,000 vs 1,000,000 sessions stored")
    store = open_store(url)
    fill_sessions(store, 10_000)
    small = _lookups(store, 10_000)
    store.database.run(Kind.WRITE, lambda tx: tx.execute("DELETE FROM sessions"))  # type: ignore[attr-defined]
    started = time.perf_counter()
    fill_sessions(store, 1_000_000)
    print(f"(filled 1,000,000 sessions in {time.perf_counter() - started:.0f} s)")
    large = _lookups(store, 1_000_000)
    print(f"10k: {small:.0f} µs   1M: {large:.0f} µs   ratio 1M/10k: {large / small:.2f}")
    store.close()
    drop_schema("lookup")


def _lookups(store: Store, count: int) -> float:
    rng = random.Random(1)
    rounds = []
    for _ in range(5):
        handles = [f"s{rng.randrange(1, count + 1)}" for _ in range(2000)]
        started = time.perf_counter()
        for handle in handles:
            assert run_sync(store.get_session(handle)) is not None
        rounds.append((time.perf_counter() - started) / len(handles))
    return median_us(rounds)


# -- cleanup while refreshes run -------------------------------------------------------------------


def bench_cleanup() -> None:
    print("\n== cleanup of 1,000,000 sessions (25 % expired) while 8 clients refresh")
    columns = ("refreshes", "p50 ms", "p99 ms", "max ms", "took s")
    print(f"{'backend':9} {'phase':34} " + " ".join(f"{c:>9}" for c in columns))
    for name, url in backends("cleanup"):
        store = open_store(url)
        started = time.perf_counter()
        fill_sessions(store, 1_000_000, expired_every=4)
        print(f"(filled in {time.perf_counter() - started:.0f} s)")
        store.close()
        with _Server(url) as server:
            phases = [
                ("no cleanup (baseline)", None),
                (
                    "bastion cleanup (batches)",
                    [sys.executable, "-m", "bastion", "cleanup", "--database-url", url],
                ),
                ("one DELETE (no batches)", [sys.executable, "-c", _ONE_DELETE, url]),
            ]
            base_max = 0.0
            for phase, command in phases:
                if command is not None and "one DELETE" in phase:
                    refill = open_store(url)
                    fill_sessions(refill, 250_000, expired_every=1, prefix="again")
                    refill.close()
                waits, took = server.refresh_while(command, seconds=6)
                waits.sort()
                p50, p99, worst = (waits[len(waits) // 2], waits[int(len(waits) * 0.99)], waits[-1])
                if command is None:
                    base_max = worst
                note = "" if command is None else f"  (max {worst / base_max:.1f}x baseline)"
                print(
                    f"{name:9} {phase:34} {len(waits):9d} {p50 * 1000:9.1f} {p99 * 1000:9.1f} "
                    f"{worst * 1000:9.1f} {took:9.1f}{note}"
                )
    drop_schema("cleanup")


_ONE_DELETE = """
import sys
from bastion.bridge import run_sync
from bastion.clock import SystemClock
from bastion.storage import open_store
store = open_store(sys.argv[1])
print(run_sync(store.delete_expired(SystemClock().now_ms(), batch_size=10**9)))
store.close()
"""


class _Server:
    """The cluster app under uvicorn, and refreshing clients."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.folder = Path(tempfile.mkdtemp(prefix="bench-server-"))

    def __enter__(self) -> _Server:
        from tests.conftest import free_port

        port = free_port()
        (self.folder / "offset").write_text("0")
        env = {
            **os.environ,
            "BASTION_DATABASE_URL": self.url,
            "BASTION_TEST_CLOCK_FILE": str(self.folder / "offset"),
            "PYTHONPATH": str(ROOT),
        }
        self.log = (self.folder / "server.log").open("wb")
        options = "--factory tests.cluster.app:fastapi_app --log-level warning --port"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *options.split(), str(port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.base + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            assert time.monotonic() < deadline
        self.http = httpx.Client(base_url=self.base, timeout=60)
        self.tokens = []
        headers = {"st-auth-mode": "header", "rid": "emailpassword"}
        for i in range(8):
            form = {
                "formFields": [
                    {"id": "email", "value": f"c{i}@example.com"},
                    {"id": "password", "value": "correct horse 1"},
                ]
            }
            answer = self.http.post("/auth/signup", json=form, headers=headers)
            self.tokens.append(answer.headers["st-refresh-token"])
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait()
        self.log.close()

    def refresh_while(self, command: list[str] | None, seconds: float) -> tuple[list[float], float]:
        waits: list[float] = []
        done = threading.Event()
        lock = threading.Lock()

        def client(i: int) -> None:
            while not done.is_set():
                started = time.perf_counter()
                answer = self.http.post(
                    "/auth/session/refresh",
                    headers={
                        "st-auth-mode": "header",
                        "rid": "session",
                        "authorization": f"Bearer {self.tokens[i]}",
                    },
                )
                assert answer.status_code == 200, answer.text
                self.tokens[i] = answer.headers["st-refresh-token"]
                with lock:
                    waits.append(time.perf_counter() - started)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        if command is None:
            time.sleep(seconds)
        else:
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        took = time.perf_counter() - started
        done.set()
        for thread in threads:
            thread.join()
        return waits, took


if __name__ == "__main__":
    chosen = set(sys.argv[1:]) or {"hop", "ops", "lookup", "cleanup"}
    print(f"python {sys.version.split()[0]}; medians of 5 rounds unless said otherwise")
    for part, run in (
        ("hop", bench_hop),
        ("ops", bench_ops),
        ("lookup", bench_lookup),
        ("cleanup", bench_cleanup),
    ):
        if part in chosen:
            run()
