"""Fixtures for the browser tests: one Chromium per run, the page server, a ready page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from bastion.clock import ManualClock
from tests.browser import app as api_app
from tests.browser.harness import DIST_DIR, Browser, Page, build_page, require_tools
from tests.conftest import LiveServer, app_info


@pytest.fixture
def backend() -> str:
    """SQLite only: these tests check the frontend SDK against bastion's protocol, which is the
    same on every backend (the HTTP suites run on both; a browser run costs seconds)."""
    return "sqlite"


# Session scope: launching Chromium costs seconds; each page gets a fresh context anyway.
@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    node = require_tools()
    build_page(node)
    chromium = Browser(node)
    yield chromium
    chromium.close()


def localhost(port: int) -> str:
    # Always "localhost" (never 127.0.0.1): both origins must be the same site for cookies.
    return f"http://localhost:{port}"


@pytest.fixture(scope="session")
def page_origin(browser: Browser) -> Iterator[str]:
    static = Starlette()
    static.mount("/", StaticFiles(directory=DIST_DIR, html=True))
    with LiveServer(static) as server:
        yield localhost(server.port)


@pytest.fixture
def browser_clock(clock: ManualClock) -> ManualClock:
    """The server's clock, started at the real time so the browser can share it."""
    clock.set(time.time_ns() // 1_000_000)
    return clock


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(
    browser: Browser,
    page_origin: str,
    serve: Callable[[Any], Any],
    init_app: Callable[..., Any],
    browser_clock: ManualClock,
) -> Iterator[OpenPage]:
    """``open_page(mode, **session_settings)``: bastion + API on one origin, the page on another.

    ``recipe_list`` (bastion's recipes, instead of a session recipe made from the settings) and
    ``recipes`` (the web-js recipes to initialise in the page, e.g. ``["emailpassword"]``) add
    other recipes' flows.
    """

    def start(
        mode: str,
        *,
        recipe_list: list[Any] | None = None,
        recipes: tuple[str, ...] = (),
        **session_settings: Any,
    ) -> Page:
        server = serve(api_app.build(page_origin))
        api_origin = localhost(server.port)
        init_app(
            recipe_list,
            info=app_info(api_domain=api_origin, website_domain=page_origin),
            **session_settings,
        )
        page = Page(browser, api_origin)
        page.open(
            page_origin + "/index.html",
            clock_ms=browser_clock.now_ms(),
            tokenTransferMethod=mode,
            recipes=list(recipes),
        )
        return page

    yield start
    # Closing the context drops its kept-alive connections, so the servers stop at once.
    browser.command("close")
