"""Many processes on one PostgreSQL database, over real HTTP: 3 uvicorn (FastAPI) processes and
2 gunicorn (Flask) processes, all started at once on an empty schema.

Every scenario sends its requests to several processes at the same moment (threads released by a
barrier), so the guarantees checked here are the database's, not one process's memory.
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from bastion.storage import open_store
from bastion.storage.migrations import migrations
from tests.conftest import free_port
from tests.databases import POSTGRES_SKIP_REASON, DatabaseHost, postgres_url, rows

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse 1"
EMAIL_EXISTS = "This email already exists. Please sign in instead."
FDI = {"st-auth-mode": "header", "fdi-version": "4.0"}

pytestmark = pytest.mark.postgres


@dataclass
class Cluster:
    urls: list[str]
    kinds: list[str]
    clock_file: Path
    database_url: str
    offset_ms: int = 0
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    def advance(self, ms: int) -> None:
        self.offset_ms += ms
        self.clock_file.write_text(str(self.offset_ms))

    def now_s(self) -> int:
        return (time.time_ns() // 1_000_000 + self.offset_ms) // 1000

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        store = open_store(self.database_url)
        try:
            return rows(store, sql, *params)
        finally:
            store.close()


def _start(kind: str, port: int, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    if kind == "uvicorn":
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "tests.cluster.app:fastapi_app",
            "--host", "127.0.0.1", "--port", str(port), "--loop", "asyncio",
            "--lifespan", "off", "--log-level", "warning",
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "-m", "gunicorn", "tests.cluster.app:flask_app()",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread",
            "--threads", "8", "--log-level", "warning",
        ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def cluster(
    database_host: DatabaseHost, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    if postgres_url() is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    import psycopg

    base = str(postgres_url())
    schema = "bastion_cluster"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')  # empty: the processes migrate it
    from tests.databases import schema_url

    url = schema_url(base, schema, extra="pool_min=1&pool_max=4&pool_timeout=20")
    folder = tmp_path_factory.mktemp("cluster")
    clock_file = folder / "offset_ms"
    clock_file.write_text("0")
    env = {
        **os.environ,
        "BASTION_DATABASE_URL": url,
        "BASTION_TEST_CLOCK_FILE": str(clock_file),
        "PYTHONPATH": str(ROOT),
    }
    kinds = ["uvicorn", "uvicorn", "uvicorn", "gunicorn", "gunicorn"]
    ports = [free_port() for _ in kinds]
    logs = [
        (folder / f"{kind}-{port}.log").open("wb") for kind, port in zip(kinds, ports, strict=True)
    ]
    processes = [
        _start(kind, port, env, log) for kind, port, log in zip(kinds, ports, logs, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    made = Cluster(urls, kinds, clock_file, url)
    try:
        deadline = time.monotonic() + 90
        for process, address in zip(processes, urls, strict=True):
            while True:
                assert process.poll() is None, _logs(folder)
                try:
                    if made.http.get(address + "/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{address} did not start"
                time.sleep(0.1)
        yield made
    finally:
        made.http.close()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
        if "Traceback" in _logs(folder):
            print(_logs(folder))  # noqa: T201 - shown with the failure
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _logs(folder: Path) -> str:
    return "\n".join(f"== {p.name}\n{p.read_text()}" for p in sorted(folder.glob("*.log")))


# -- a client that can talk to any process ------------------------------------------------------


@dataclass
class Tab:
    """Tokens of one signed-in client (header mode), usable against every process."""

    cluster: Cluster
    access: str = ""
    refresh_token: str = ""

    def _keep(self, response: httpx.Response) -> httpx.Response:
        if response.headers.get("st-access-token"):
            self.access = response.headers["st-access-token"]
        if response.headers.get("st-refresh-token"):
            self.refresh_token = response.headers["st-refresh-token"]
        return response

    def call(
        self, process: int, method: str, path: str, body: Any = None, rid: str = ""
    ) -> httpx.Response:
        headers = dict(FDI)
        if self.access:
            headers["authorization"] = f"Bearer {self.access}"
        if rid:
            headers["rid"] = rid
        response = self.cluster.http.request(
            method, self.cluster.urls[process] + path, json=body, headers=headers
        )
        return self._keep(response)

    def refresh(self, process: int, token: str | None = None) -> httpx.Response:
        headers = {
            **FDI,
            "rid": "session",
            "authorization": f"Bearer {token or self.refresh_token}",
        }
        response = self.cluster.http.post(
            self.cluster.urls[process] + "/auth/session/refresh", headers=headers
        )
        if token is None:
            self._keep(response)
        return response


def form(email: str, password: str = PASSWORD) -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}


def sign_up(cluster: Cluster, email: str, process: int = 0) -> Tab:
    tab = Tab(cluster)
    response = tab.call(process, "POST", "/auth/signup", form(email), rid="emailpassword")
    assert response.json()["status"] == "OK", response.text
    return tab


def sign_in(cluster: Cluster, email: str, process: int) -> Tab:
    tab = Tab(cluster)
    response = tab.call(process, "POST", "/auth/signin", form(email), rid="emailpassword")
    assert response.json()["status"] == "OK", response.text
    return tab


def at_once(n: int, call: Callable[[int], Any]) -> list[Any]:
    """``call(i)`` for i in range(n), released together."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def kid_of(token: str) -> str:
    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


def enroll_totp(cluster: Cluster, tab: Tab) -> str:
    created = tab.call(0, "POST", "/auth/totp/device", {}, rid="totp").json()
    assert created["status"] == "OK", created
    code = pyotp.TOTP(created["secret"]).at(cluster.now_s())
    verified = tab.call(
        3,
        "POST",
        "/auth/totp/device/verify",
        {"deviceName": created["deviceName"], "totp": code},
        rid="totp",
    )
    assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}, verified.text
    return str(created["secret"])


# -- the scenarios ------------------------------------------------------------------------------


def test_processes_started_together_migrated_once_and_made_one_key(cluster: Cluster) -> None:
    latest = len(migrations("postgres"))
    assert cluster.rows("SELECT version FROM bastion_migrations ORDER BY version") == [
        (n,) for n in range(1, latest + 1)
    ]
    assert cluster.rows("SELECT slot FROM signing_keys") == [("first",)]
    names = [r[0] for r in cluster.rows("SELECT name FROM secrets ORDER BY name")]
    assert len(names) == len(set(names))
    pids = {cluster.http.get(u + "/health").json()["pid"] for u in cluster.urls}
    assert len(pids) == 5


def test_a_session_is_verified_refreshed_and_revoked_through_the_others(cluster: Cluster) -> None:
    tab = sign_up(cluster, "roamer@example.com", process=0)
    for process in range(5):
        assert tab.call(process, "GET", "/verify").json() == {
            "user": tab.call(0, "GET", "/verify").json()["user"]
        }
    handles = set()
    for process in (3, 1, 4, 2, 0):  # each refresh on another process, each token once
        assert tab.refresh(process).status_code == 200
        for other in range(5):
            body = tab.call(other, "GET", "/whoami").json()
            handles.add(body["handle"])
            assert tab.call(other, "GET", "/verify-db").status_code == 200
    assert len(handles) == 1  # one session throughout
    signed_out = tab.call(4, "POST", "/auth/signout", rid="session")
    assert signed_out.json() == {"status": "OK"}, signed_out.text


def test_a_revoked_session_fails_everywhere_with_check_database(cluster: Cluster) -> None:
    tab = sign_up(cluster, "revoked@example.com", process=1)
    assert all(tab.call(p, "GET", "/verify-db").status_code == 200 for p in range(5))
    access, refresh_token = tab.access, tab.refresh_token
    assert tab.call(3, "POST", "/auth/signout", rid="session").json() == {"status": "OK"}
    tab.access = access  # a client that kept its tokens
    results = at_once(5, lambda p: tab.call(p, "GET", "/verify-db"))
    assert [r.status_code for r in results] == [401] * 5
    assert all(r.json() == {"message": "unauthorised"} for r in results)
    assert all(tab.refresh(p, refresh_token).status_code == 401 for p in range(5))


def test_a_refresh_storm_detects_no_theft_and_keeps_everyone_signed_in(cluster: Cluster) -> None:
    tabs = [sign_up(cluster, f"storm-{i}@example.com", process=i % 5) for i in range(30)]
    rng = random.Random(9)
    plans = [[rng.randrange(5) for _ in range(5)] for _ in tabs]

    def storm(i: int) -> list[int]:
        return [tabs[i].refresh(process).status_code for process in plans[i]]

    statuses = at_once(30, storm)
    assert statuses == [[200] * 5] * 30
    # One refresh token sent to every process at once (tabs retrying): the same successor.
    shared = tabs[0].refresh_token
    answers = at_once(10, lambda i: tabs[0].refresh(i % 5, shared))
    assert [a.status_code for a in answers] == [200] * 10
    assert len({a.headers["st-refresh-token"] for a in answers}) == 1
    tabs[0].refresh_token = answers[0].headers["st-refresh-token"]
    tabs[0].access = answers[0].headers["st-access-token"]
    assert tabs[0].refresh(2).status_code == 200  # the chain goes on: no theft was recorded
    for i, tab in enumerate(tabs):
        assert tab.call(i % 5, "GET", "/verify-db").status_code == 200
    handles = {t.call(0, "GET", "/whoami").json()["handle"] for t in tabs}
    stored = {r[0] for r in cluster.rows("SELECT handle FROM sessions")}
    assert handles <= stored and len(handles) == 30


def test_one_totp_code_works_once_across_processes(cluster: Cluster) -> None:
    tab = sign_up(cluster, "totp-once@example.com")
    secret = enroll_totp(cluster, tab)
    cluster.advance(30_000)  # the next step: its code has not been used yet
    code = pyotp.TOTP(secret).at(cluster.now_s())
    # Once per process (every attempt counts against the limit of 5 until one succeeds).
    answers = at_once(
        5, lambda i: tab.call(i, "POST", "/auth/totp/verify", {"totp": code}, rid="totp")
    )
    statuses = [a.json()["status"] for a in answers]
    assert statuses.count("OK") == 1, statuses
    assert set(statuses) == {"OK", "INVALID_TOTP_ERROR"}


def test_one_recovery_code_works_once_across_processes(cluster: Cluster) -> None:
    tab = sign_up(cluster, "recovery-once@example.com")
    enroll_totp(cluster, tab)
    codes = tab.call(1, "POST", "/auth/mfa/recovery-codes", {}, rid="multifactorauth").json()
    assert codes["status"] == "OK", codes
    recovery = codes["recoveryCodes"][0]
    used = at_once(
        5,
        lambda i: tab.call(
            i,
            "POST",
            "/auth/mfa/recovery-codes/verify",
            {"recoveryCode": recovery},
            rid="multifactorauth",
        ),
    )
    outcomes = [u.json()["status"] for u in used]
    assert outcomes.count("OK") == 1, outcomes
    assert set(outcomes) == {"OK", "INVALID_RECOVERY_CODE_ERROR"}
    remaining = tab.call(2, "GET", "/auth/mfa/recovery-codes", rid="multifactorauth").json()
    assert remaining == {"status": "OK", "remaining": 9, "total": 10}


def test_twenty_wrong_codes_across_processes_lock_after_exactly_five(cluster: Cluster) -> None:
    tab = sign_up(cluster, "guesser@example.com", process=2)
    secret = enroll_totp(cluster, tab)
    valid = {pyotp.TOTP(secret).at(cluster.now_s() + 30 * s) for s in (-1, 0, 1)}
    wrong = next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)
    answers = at_once(
        20, lambda i: tab.call(i % 5, "POST", "/auth/totp/verify", {"totp": wrong}, rid="totp")
    )
    bodies = [a.json() for a in answers]
    invalid = [b for b in bodies if b["status"] == "INVALID_TOTP_ERROR"]
    assert sorted(b["currentNumberOfFailedAttempts"] for b in invalid) == [1, 2, 3, 4, 5]
    assert [b["status"] for b in bodies].count("LIMIT_REACHED_ERROR") == 15


def test_one_email_signed_up_on_every_process_at_once_is_one_user(cluster: Cluster) -> None:
    for round_ in range(4):
        email = f"twin-{round_}@example.com"
        answers = at_once(
            5,
            lambda p, email=email: cluster.http.post(
                cluster.urls[p] + "/auth/signup",
                json=form(email),
                headers={**FDI, "rid": "emailpassword"},
            ),
        )
        bodies = [a.json() for a in answers]
        assert [b["status"] for b in bodies].count("OK") == 1, bodies
        refused = [b for b in bodies if b["status"] != "OK"]
        assert all(
            b == {"status": "FIELD_ERROR", "formFields": [{"id": "email", "error": EMAIL_EXISTS}]}
            for b in refused
        ), refused
        assert cluster.rows("SELECT COUNT(*) FROM login_methods WHERE email_key = ?", email) == [
            (1,)
        ]


def test_signing_key_rotation_makes_one_key_that_every_process_verifies(cluster: Cluster) -> None:
    tabs = [sign_up(cluster, f"rotate-{p}@example.com", process=p) for p in range(5)]
    ((first_kid, sign_until),) = cluster.rows("SELECT kid, sign_until_ms FROM signing_keys")
    # Into the last minute of the key's signing window: the successor is due, on every process.
    now_ms = time.time_ns() // 1_000_000 + cluster.offset_ms
    cluster.advance(sign_until - now_ms - 30_000)
    assert [r.status_code for r in at_once(5, lambda p: tabs[p].refresh(p))] == [200] * 5
    keys = cluster.rows("SELECT kid, slot FROM signing_keys ORDER BY sign_from_ms")
    assert keys == [(first_kid, "first"), (f"d-{sign_until}", str(sign_until))]
    # Past the old window: every process signs with the one new key, every process verifies it.
    cluster.advance(60_000)
    assert [r.status_code for r in at_once(5, lambda p: tabs[p].refresh(p))] == [200] * 5
    assert {kid_of(t.access) for t in tabs} == {f"d-{sign_until}"}
    for tab in tabs:
        assert [tab.call(p, "GET", "/verify").status_code for p in range(5)] == [200] * 5
    assert len(cluster.rows("SELECT kid FROM signing_keys")) == 2
