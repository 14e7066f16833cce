"""Email-password sign-in: the enumeration timing gap, and throughput against bare argon2.

Both run the FastAPI app in-process (ASGI calls, no sockets) with the production argon2id
parameters (t=2, m=19 MiB, p=1) and throttling limits raised out of the way.

1. Enumeration: ``POST /auth/signin`` with a wrong password for a known email, and with an
   unknown email, in interleaved pairs (random order within each pair). Reports each median and
   the gap as a percentage of the known-email median (target: under 10 %); also the throttled
   answers (no hashing on either side).
2. Throughput: successful sign-ins per second with 16 in flight, against the bare verification
   rate of the same hasher with one thread per core, measured alternately in the same run
   (target: at least 90 %).

Run: ``.venv/bin/python bench/bench_signin.py``
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI

import bastion
from bastion.core.passwords import PasswordHasher
from bastion.framework.fastapi import get_middleware
from bastion.recipe import emailpassword, session
from bastion.recipe.emailpassword import SignInThrottling
from bastion.recipe.emailpassword.hashing import MAX_CONCURRENT_HASHES

PAIRS = 300
ACCOUNTS = 32
ROUNDS = 5
SIGN_INS = 96
IN_FLIGHT = 16
PASSWORD = "bench password 1"


def scope_for(path: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"rid", b"emailpassword"),
            (b"st-auth-mode", b"header"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def post(app: Any, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    status = 0
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope_for(path, body), receive, send)
    return status, json.loads(b"".join(chunks))


def fields(email: str, password: str) -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}


async def timed_post(app: Any, email: str, password: str) -> tuple[float, int, Any]:
    start = time.perf_counter()
    status, body = await post(app, "/auth/signin", fields(email, password))
    return time.perf_counter() - start, status, body


async def enumeration(app: Any) -> None:
    known: list[float] = []
    unknown: list[float] = []
    rng = random.Random(7)
    for i in range(PAIRS):
        order = [("user0@example.com", known), (f"ghost{i}@example.com", unknown)]
        rng.shuffle(order)
        for email, bucket in order:
            elapsed, status, body = await timed_post(app, email, f"wrong {i}")
            assert (status, body) == (200, {"status": "WRONG_CREDENTIALS_ERROR"}), body
            bucket.append(elapsed)
    k, u = statistics.median(known), statistics.median(unknown)
    print(f"enumeration: {PAIRS} interleaved pairs, production argon2id")
    print(f"  known email, wrong password: median {k * 1e3:6.2f} ms")
    print(f"  unknown email:               median {u * 1e3:6.2f} ms")
    print(f"  gap: {abs(u - k) * 1e3:.2f} ms = {abs(u - k) / k * 100:.1f} % (target < 10 %)")


async def throttled_gap(app: Any) -> None:
    known: list[float] = []
    unknown: list[float] = []
    pairs = (("locked@example.com", known), ("lockedghost@example.com", unknown))
    for _ in range(60):
        for email, bucket in pairs:
            elapsed, status, _ = await timed_post(app, email, "x")
            if status == 429:
                bucket.append(elapsed)
    k, u = statistics.median(known), statistics.median(unknown)
    print(f"  throttled (429, no hashing): known {k * 1e3:.2f} ms, unknown {u * 1e3:.2f} ms")


def bare_rate(hasher: PasswordHasher, stored: str) -> float:
    with ThreadPoolExecutor(max_workers=MAX_CONCURRENT_HASHES) as pool:
        start = time.perf_counter()
        results = list(pool.map(lambda _: hasher.verify(stored, PASSWORD), range(SIGN_INS)))
        elapsed = time.perf_counter() - start
    assert all(results)
    return SIGN_INS / elapsed


async def sign_in_rate(app: Any) -> float:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(i: int) -> None:
        async with gate:
            status, body = await post(
                app, "/auth/signin", fields(f"user{i % ACCOUNTS}@example.com", PASSWORD)
            )
            assert status == 200, body
            assert body["status"] == "OK", body

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(SIGN_INS)))
    return SIGN_INS / (time.perf_counter() - start)


async def main() -> None:
    logging.getLogger("bastion").setLevel(logging.ERROR)  # no per-request auth events
    workdir = Path(tempfile.mkdtemp())
    bastion.init(
        app_info=bastion.InputAppInfo(
            app_name="bench", api_domain="http://127.0.0.1", website_domain="http://127.0.0.1"
        ),
        recipe_list=[
            session.init(),
            emailpassword.init(
                sign_in_throttling=SignInThrottling(
                    account_attempts=10**6, client_attempts=10**6, lock_after=None
                )
            ),
        ],
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        api_requests_per_minute=None,  # measure the hashing path, not the generic limit
    )
    app = FastAPI()
    app.add_middleware(get_middleware())
    for i in range(ACCOUNTS):
        _, body = await post(app, "/auth/signup", fields(f"user{i}@example.com", PASSWORD))
        assert body["status"] == "OK", body
    cpus = f"{os.cpu_count()} CPUs, {MAX_CONCURRENT_HASHES} hash slots"
    print(f"python {sys.version.split()[0]}, {cpus}")
    await enumeration(app)

    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    bare: list[float] = []
    ours: list[float] = []
    for _ in range(ROUNDS):
        bare.append(bare_rate(hasher, stored))
        ours.append(await sign_in_rate(app))
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"throughput: {ROUNDS} alternating rounds of {SIGN_INS}, medians")
    print(f"  bare argon2id verify, {MAX_CONCURRENT_HASHES} threads: {b:6.1f} /s")
    print(f"  successful sign-ins, {IN_FLIGHT} in flight:   {o:6.1f} /s")
    print(f"  ratio: {o / b * 100:.1f} % (target >= 90 %)")

    # Throttled answers, for completeness: a tight limit on a fresh app.
    bastion.init(
        app_info=bastion.InputAppInfo(
            app_name="bench", api_domain="http://127.0.0.1", website_domain="http://127.0.0.1"
        ),
        recipe_list=[
            session.init(),
            emailpassword.init(
                sign_in_throttling=SignInThrottling(account_attempts=1, client_attempts=10**6)
            ),
        ],
        database_url=f"sqlite:///{workdir / 'throttled.db'}",
        api_requests_per_minute=None,
    )
    await post(app, "/auth/signup", fields("locked@example.com", PASSWORD))
    await throttled_gap(app)


if __name__ == "__main__":
    asyncio.run(main())
