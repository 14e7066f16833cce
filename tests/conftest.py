"""Shared fixtures: the database backend, a clock, a fresh bastion per test, real HTTP servers.

Every test that uses a database (``databases``, ``db_url``, ``init_app`` and the suites' own
stack fixtures built on them) runs twice: ``[sqlite]`` and ``[postgres]``. The PostgreSQL half
skips unless ``BASTION_TEST_POSTGRES_URL`` names a database (see ``tests/databases.py``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bastion
from bastion.clock import ManualClock
from bastion.recipe import session
from tests.databases import POSTGRES_SKIP_REASON, DatabaseHost, Databases, postgres_url

API_DOMAIN = "http://127.0.0.1:8000"
WEBSITE_DOMAIN = "http://127.0.0.1:3000"


def app_info(**overrides: Any) -> bastion.InputAppInfo:
    kwargs: dict[str, Any] = {
        "app_name": "bastion-tests",
        "api_domain": API_DOMAIN,
        "website_domain": WEBSITE_DOMAIN,
        "api_base_path": "/auth",
        "website_base_path": "/auth",
    }
    kwargs.update(overrides)
    return bastion.InputAppInfo(**kwargs)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000_000)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def database_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseHost]:
    host = DatabaseHost(tmp_path_factory.mktemp("databases"), postgres_url())
    yield host
    host.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Report every skipped PostgreSQL test under one line of the summary, not one per test."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and POSTGRES_SKIP_REASON in longrepr[2]:
        report.longrepr = ("tests/conftest.py", 0, longrepr[2])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``: the database every store of the test uses."""
    if request.param == "postgres" and postgres_url() is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    return str(request.param)


@pytest.fixture
def databases(backend: str, tmp_path: Path, database_host: DatabaseHost) -> Databases:
    """``databases.fresh()``: the URL of a new empty database on the test's backend."""
    return Databases(backend, tmp_path, database_host)


@pytest.fixture
def db_url(databases: Databases) -> str:
    return databases.fresh()


InitApp = Callable[..., bastion.Bastion]


@pytest.fixture
def init_app(db_url: str, clock: ManualClock) -> Iterator[InitApp]:
    """``init_app(recipe_list=..., **session_settings)``: a fresh current app on a temp DB
    (``app_options`` go to ``bastion.init`` and may name another ``database_url``)."""
    made: list[bastion.Bastion] = []

    def make(
        recipe_list: list[Any] | None = None,
        *,
        framework: str = "fastapi",
        use_clock: bool = True,
        info: bastion.InputAppInfo | None = None,
        app_options: dict[str, Any] | None = None,
        **session_settings: Any,
    ) -> bastion.Bastion:
        recipes = recipe_list if recipe_list is not None else [session.init(**session_settings)]
        options = {"database_url": db_url, **(app_options or {})}
        app = bastion.init(
            app_info=info or app_info(),
            framework=framework,  # type: ignore[arg-type]
            recipe_list=recipes,
            clock=clock if use_clock else None,
            **options,
        )
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """An ASGI app served by uvicorn on a real socket, in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        # proxy_headers=False: uvicorn would otherwise take X-Forwarded-For from 127.0.0.1
        # (the test client) as the client address; tests must see the real peer.
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            proxy_headers=False,
            # Longer than any test's pauses: a kept-alive connection that the server closes just
            # as a client sends on it is a "server disconnected" error, not a test result.
            timeout_keep_alive=120,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator[Callable[[Any], LiveServer]]:
    """``serve(asgi_app)`` starts a real HTTP server and returns it (stopped after the test)."""
    running: list[LiveServer] = []

    def start(app: Any) -> LiveServer:
        server = LiveServer(app).__enter__()
        running.append(server)
        return server

    yield start
    for server in running:
        server.__exit__(None, None, None)


class LiveWSGIServer:
    """A WSGI app served by werkzeug's threaded server on a real socket, in a background thread."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveWSGIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def serve_wsgi() -> Iterator[Callable[[Any], LiveWSGIServer]]:
    """``serve_wsgi(wsgi_app)`` starts a real threaded HTTP server (stopped after the test)."""
    running: list[LiveWSGIServer] = []

    def start(app: Any) -> LiveWSGIServer:
        server = LiveWSGIServer(app).__enter__()
        running.append(server)
        return server

    yield start
    for server in running:
        server.__exit__(None, None, None)
