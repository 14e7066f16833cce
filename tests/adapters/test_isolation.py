"""1,000 interleaved requests from several users on each stack: nobody gets another's session.

Threads drive the WSGI servers (Flask, Django-WSGI) and asyncio tasks drive the ASGI ones
(FastAPI, Django-ASGI). Every response must name its caller, carry the caller's session handle,
and any token it issues (``front-token``, ``st-access-token``, the ``sAccessToken`` cookie) must
be the caller's, with the payload value that this very request wrote.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.adapters.conftest import ASGI, FRAMEWORKS, StartStack


@pytest.fixture
def backend() -> str:
    """SQLite only: what is checked is per-request state in each adapter, the same on every
    backend; the storage races are the contract suite's and the cluster test's."""
    return "sqlite"


USERS = 8
REQUESTS = 1000
THREADS = 16
TASKS = 32


@dataclass(frozen=True)
class User:
    name: str
    mode: str
    handle: str
    access_token: str


@dataclass(frozen=True)
class Action:
    user: int
    touch: bool  # True: write {"n": n} into the payload (a new token); False: read only
    n: int


def _b64json(data: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def _jwt_payload(token: str) -> Any:
    return _b64json(token.split(".")[1])


def _front_token(value: str) -> Any:
    return json.loads(base64.b64decode(value))


def _actions() -> list[Action]:
    rng = random.Random(20240611)
    return [Action(rng.randrange(USERS), rng.random() < 0.3, n) for n in range(REQUESTS)]


def _create_request(i: int) -> tuple[str, dict[str, str]]:
    mode = "cookie" if i % 2 == 0 else "header"
    return f"/create?user=user-{i}", {"st-auth-mode": mode, "rid": "anti-csrf"}


def _user_from(i: int, response: httpx.Response) -> User:
    assert response.status_code == 200
    front = _front_token(response.headers["front-token"])
    mode = "cookie" if i % 2 == 0 else "header"
    access = response.headers.get("st-access-token", "")
    return User(f"user-{i}", mode, front["up"]["sessionHandle"], access)


def _request(user: User, action: Action) -> tuple[str, str, dict[str, str]]:
    headers = {"st-auth-mode": user.mode, "rid": "anti-csrf"}
    if user.mode == "header":
        headers["authorization"] = f"Bearer {user.access_token}"
    if action.touch:
        return "POST", f"/touch?n={action.n}", headers
    return "GET", "/whoami", headers


def check(user: User, action: Action, response: httpx.Response) -> None:
    """The response is the caller's, and so is every token it carries."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == user.name
    if not action.touch:
        assert body["handle"] == user.handle
        assert "front-token" not in response.headers
        return
    assert body["n"] == action.n
    front = _front_token(response.headers["front-token"])
    assert front["uid"] == user.name
    assert front["up"]["sessionHandle"] == user.handle
    assert front["up"]["n"] == action.n
    if user.mode == "header":
        token = response.headers["st-access-token"]
        assert "set-cookie" not in response.headers
    else:
        [line] = response.headers.get_list("set-cookie")
        name, _, rest = line.partition("=")
        assert name == "sAccessToken"
        token = rest.split(";", 1)[0]
    payload = _jwt_payload(token)
    assert (payload["sub"], payload["sessionHandle"], payload["n"]) == (
        user.name,
        user.handle,
        action.n,
    )


def run_threads(url: str) -> int:
    clients = [httpx.Client(base_url=url, timeout=60) for _ in range(USERS)]
    try:
        users = []
        for i, client in enumerate(clients):
            path, headers = _create_request(i)
            users.append(_user_from(i, client.post(path, headers=headers)))

        def one(action: Action) -> None:
            user = users[action.user]
            method, path, headers = _request(user, action)
            check(user, action, clients[action.user].request(method, path, headers=headers))

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            return len(list(pool.map(one, _actions())))
    finally:
        for client in clients:
            client.close()


async def run_tasks(url: str) -> int:
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for _ in range(USERS)]
    try:
        users = []
        for i, client in enumerate(clients):
            path, headers = _create_request(i)
            users.append(_user_from(i, await client.post(path, headers=headers)))
        slots = asyncio.Semaphore(TASKS)

        async def one(action: Action) -> None:
            user = users[action.user]
            method, path, headers = _request(user, action)
            async with slots:
                response = await clients[action.user].request(method, path, headers=headers)
            check(user, action, response)

        await asyncio.gather(*(one(action) for action in _actions()))
        return REQUESTS
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_interleaved_users_each_get_their_own_session(
    start_stack: StartStack, framework: str
) -> None:
    stack = start_stack(framework)
    done = asyncio.run(run_tasks(stack.url)) if framework in ASGI else run_threads(stack.url)
    assert done == REQUESTS
