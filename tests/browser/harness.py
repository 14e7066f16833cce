"""Runs the real frontend SDK in headless Chromium: builds the page and drives ``e2e/driver.mjs``.

The Node driver (playwright-core) reads one JSON command per line on stdin and answers one JSON
line on stdout; :class:`Browser` is its Python end. The page (``e2e/src/page.js``) exposes
``window.e2e``; :meth:`Page.sdk` calls one of its functions and unwraps the result.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

E2E_DIR = Path(__file__).resolve().parents[2] / "e2e"
DIST_DIR = E2E_DIR / "dist"
CHROMIUM = os.environ.get("BASTION_CHROMIUM", "/usr/bin/chromium")
COMMAND_TIMEOUT_S = 30
INSTALL_TIMEOUT_S = 300


def require_tools() -> str:
    """The ``node`` executable; skips (outside CI) or fails (in CI) if a tool is missing."""
    node = shutil.which("node")
    missing = [
        name for name, ok in (("node", node), ("chromium", Path(CHROMIUM).exists())) if not ok
    ]
    if missing:
        reason = f"browser tests need {' and '.join(missing)} (chromium at {CHROMIUM}); see .ci/run"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    assert node is not None
    return node


def _run(args: list[str], timeout: int) -> None:
    done = subprocess.run(args, cwd=E2E_DIR, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)


def build_page(node: str) -> None:
    """``npm ci`` if ``node_modules`` is missing, then bundle the page if a source is newer."""
    if not (E2E_DIR / "node_modules" / "playwright-core").exists():
        npm = shutil.which("npm") or "npm"
        _run([npm, "ci", "--no-audit", "--no-fund"], INSTALL_TIMEOUT_S)
    sources = [
        *E2E_DIR.joinpath("src").iterdir(),
        E2E_DIR / "build.mjs",
        E2E_DIR / "package-lock.json",
    ]
    built = DIST_DIR / "page.js"
    newest = max(p.stat().st_mtime for p in sources)
    if not built.exists() or built.stat().st_mtime < newest:
        _run([node, "build.mjs"], COMMAND_TIMEOUT_S)


class DriverError(RuntimeError):
    """The driver (or the page) failed a command."""


class Browser:
    """One headless Chromium, driven through ``e2e/driver.mjs``."""

    def __init__(self, node: str) -> None:
        self._proc = subprocess.Popen(
            [node, "driver.mjs"],
            cwd=E2E_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "BASTION_CHROMIUM": CHROMIUM},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._errors: deque[str] = deque(maxlen=40)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()
        self._next_id = 0
        self._answer(0)  # "ready": Chromium launched

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)

    def _answer(self, command_id: int) -> Any:
        while True:
            try:
                line = self._lines.get(timeout=COMMAND_TIMEOUT_S)
            except queue.Empty:
                raise DriverError(
                    f"no answer in {COMMAND_TIMEOUT_S} s; {self._stderr_tail()}"
                ) from None
            message = json.loads(line)
            if message["id"] == command_id:
                break
        if not message["ok"]:
            raise DriverError(message["error"])
        return message["value"]

    def _read_errors(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self._errors.append(line)

    def _stderr_tail(self) -> str:
        return "driver stderr: " + "".join(self._errors)

    def command(self, op: str, **params: Any) -> Any:
        """Send one command and wait for its answer."""
        if self._proc.poll() is not None:
            raise DriverError(f"the driver exited ({self._proc.returncode}); {self._stderr_tail()}")
        self._next_id += 1
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"id": self._next_id, "op": op, **params}) + "\n")
        self._proc.stdin.flush()
        return self._answer(self._next_id)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()


@dataclass(frozen=True)
class Exchange:
    """One request the page made, with the headers Chromium really sent and received."""

    method: str
    url: str
    status: int | None
    request_headers: dict[str, str]
    response_headers: dict[str, str]
    failure: str | None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def exposed(self) -> set[str]:
        """The names in ``Access-Control-Expose-Headers``."""
        value = self.response_headers.get("access-control-expose-headers", "")
        return {name.strip().lower() for name in value.split(",") if name.strip()}


class Page:
    """A fresh browser context (no cookies, no storage) on the test page, SDK initialised."""

    def __init__(self, browser: Browser, api_origin: str) -> None:
        self.browser = browser
        self.api_origin = api_origin

    def open(self, url: str, *, clock_ms: int, **init: Any) -> None:
        """Load ``url`` with the page's clock at ``clock_ms`` and call ``SuperTokens.init``."""
        self.browser.command("open", url=url, clockMs=clock_ms)
        self.call("init", {"apiDomain": self.api_origin, **init})

    def call(self, fn: str, *args: Any) -> Any:
        """``window.e2e[fn](...args)`` in the page."""
        return self.browser.command("call", fn=fn, args=list(args))

    def sdk(self, fn: str, *args: Any) -> Any:
        """Call an SDK wrapper and return its value; a thrown error fails the test."""
        result = self.call(fn, *args)
        if not result["ok"]:
            raise DriverError(f"{fn}{args} threw {result['error']}; page log: {self.logs()}")
        return result["value"]

    def fetch(self, path: str, method: str = "GET", body: Any = None) -> dict[str, Any]:
        """An app call through the SDK's fetch interceptor: ``{status, body, text}``."""
        options: dict[str, Any] = {"method": method}
        if body is not None:
            options["body"] = body
        return self.sdk("fetchApi", path, options)  # type: ignore[no-any-return]

    def api_calls(self) -> list[Exchange]:
        """The requests to the API origin since the last call (and forgets them)."""
        return [
            Exchange(
                e["method"],
                e["url"],
                e.get("status"),
                e.get("requestHeaders", {}),
                e.get("responseHeaders", {}),
                e.get("failure"),
            )
            for e in self.browser.command("network")
            if e["url"].startswith(self.api_origin + "/")
        ]

    def events(self) -> list[str]:
        """The SDK events (``onHandleEvent`` actions) since the last call."""
        return self.call("events")  # type: ignore[no-any-return]

    def logs(self) -> list[str]:
        return self.browser.command("logs")  # type: ignore[no-any-return]

    def fast_forward(self, seconds: float) -> None:
        """Move the page's clock (``Date.now`` and timers) forward."""
        self.browser.command("fastForward", ms=int(seconds * 1000))
