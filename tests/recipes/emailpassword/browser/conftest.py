"""The browser fixtures of ``tests/browser`` (headless Chromium running supertokens-web-js)."""

from tests.browser.conftest import backend, browser, browser_clock, open_page, page_origin

__all__ = ["backend", "browser", "browser_clock", "open_page", "page_origin"]
