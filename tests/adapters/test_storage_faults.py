"""A database that cannot answer: every framework says 503 with a JSON body and ``Retry-After``,
never a 500 and never a raw ``database is locked``; nothing is let through meanwhile, and the
same app answers normally once the database is back.

SQLite is made busy by another connection holding the write lock past the busy timeout;
PostgreSQL goes away behind a TCP proxy (connections reset, new ones refused).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bastion.http.responses import STORAGE_UNAVAILABLE_MESSAGE
from tests.adapters.conftest import FRAMEWORKS, StartStack
from tests.client import SessionClient
from tests.databases import Databases, postgres_url
from tests.faults import TcpProxy, through

Outage = Callable[[], contextlib.AbstractContextManager[None]]


@pytest.fixture
def unavailable_database(
    backend: str, databases: Databases, template_db: str
) -> Iterator[tuple[str, Outage]]:
    """A database URL for the app, and a context manager during which that database fails."""
    url = databases.fresh("faults", template=template_db)
    if backend == "sqlite":
        path = url.removeprefix("sqlite:///")

        @contextlib.contextmanager
        def locked() -> Iterator[None]:
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # another process is writing, for too long
            try:
                yield
            finally:
                holder.execute("ROLLBACK")
                holder.close()

        yield f"{url}?busy_timeout=0.2", locked
        return
    base = str(postgres_url()).split("@")[-1].split("/")[0]
    host, _, port = base.partition(":")
    with TcpProxy((host, int(port or 5432))) as proxy:

        @contextlib.contextmanager
        def gone() -> Iterator[None]:
            proxy.cut()
            try:
                yield
            finally:
                proxy.restore()

        yield through(url, proxy.port).replace("pool_timeout=10", "pool_timeout=0.5"), gone


def _is_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"message": STORAGE_UNAVAILABLE_MESSAGE}
    assert response.headers["retry-after"] in {"1", "5"}
    assert "locked" not in response.text and "sqlite" not in response.text.lower()
    assert "set-cookie" not in response.headers  # the client keeps its tokens
    assert "front-token" not in response.headers


def _eventually_ok(call: Callable[[], httpx.Response], seconds: float = 15) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = call()
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_an_unavailable_database_is_a_503_and_then_passes(
    start_stack: StartStack, unavailable_database: tuple[str, Outage], name: str
) -> None:
    url, outage = unavailable_database
    stack = start_stack(name, database_url=url)
    with SessionClient(stack.url, "header") as client:
        assert client.post("/create").status_code == 200
        tokens = (client.access_token, client.refresh_token)
        with outage():
            _is_unavailable(client.post("/create"))  # a route of the app that writes a session
            _is_unavailable(client.refresh())  # bastion's own API
            assert (client.access_token, client.refresh_token) == tokens
        assert _eventually_ok(client.refresh).status_code == 200
        assert client.post("/create").status_code == 200
        assert client.get("/verify").status_code == 200


def test_fail_closed_while_postgres_is_gone(
    backend: str, init_app: Any, serve: Any, databases: Databases
) -> None:
    """With the database gone, nothing that needs it is allowed; a signed access token still
    verifies without ``check_database`` (it is stateless by design)."""
    if backend != "postgres":
        pytest.skip("SQLite readers are never blocked (WAL); see the test above for writers")
    from tests.apps import session_app

    base = str(postgres_url()).split("@")[-1].split("/")[0]
    host, _, port = base.partition(":")
    with TcpProxy((host, int(port or 5432))) as proxy:
        url = through(databases.fresh(), proxy.port).replace("pool_timeout=10", "pool_timeout=0.5")
        init_app(app_options={"database_url": url})
        server = serve(session_app.build())
        with SessionClient(server.url, "header") as client:
            assert client.post("/create").status_code == 200
            assert client.get("/verify-db").status_code == 200
            proxy.cut()
            _is_unavailable(client.get("/verify-db"))
            _is_unavailable(client.refresh())
            _is_unavailable(client.post("/create"))
            assert client.get("/verify").status_code == 200
            proxy.restore()
            assert _eventually_ok(lambda: client.get("/verify-db")).status_code == 200
