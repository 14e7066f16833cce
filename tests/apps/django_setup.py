"""Django settings for the test apps, and handlers that serve a given set of URL patterns.

Django's settings are process-wide, so they are configured once here (no database: bastion has
its own). Each test app is a list of URL patterns; :func:`wsgi_app` and :func:`asgi_app` build a
real Django handler that routes with them (through ``request.urlconf``) and loads the given
middleware, so several apps can be served in one process.
"""

from __future__ import annotations

import logging
from typing import Any

import django
from django.conf import settings

import bastion

BASTION_MIDDLEWARE = "bastion.framework.django.middleware"
CORS_MIDDLEWARE = "corsheaders.middleware.CorsMiddleware"
WEBSITE_DOMAIN = "http://127.0.0.1:3000"  # as in tests/conftest.py

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bastion-tests-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="tests.apps.seed_django",
        MIDDLEWARE=[BASTION_MIDDLEWARE],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
        # Used only by the apps that add CORS_MIDDLEWARE (django-cors-headers).
        CORS_ALLOWED_ORIGINS=[WEBSITE_DOMAIN],
        CORS_ALLOW_CREDENTIALS=True,
        CORS_ALLOW_HEADERS=["content-type", *bastion.get_all_cors_headers()],
        CORS_ALLOW_METHODS=["DELETE", "GET", "OPTIONS", "POST", "PUT"],
        LOGGING_CONFIG=None,
    )
    django.setup()
    # Django logs every 4xx as a warning; here 401 and 403 are the expected answers.
    logging.getLogger("django.request").setLevel(logging.ERROR)

from django.core.handlers.asgi import ASGIHandler  # noqa: E402 - needs the settings
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test import override_settings  # noqa: E402


class Urls:
    """A urlconf object: Django accepts any object with ``urlpatterns`` as ``request.urlconf``."""

    def __init__(self, patterns: list[Any]) -> None:
        self.urlpatterns = patterns


class _WSGI(WSGIHandler):  # type: ignore[misc]
    def __init__(self, urls: Urls, middleware: list[str]) -> None:
        with override_settings(MIDDLEWARE=middleware):
            super().__init__()
        self.urls = urls

    def get_response(self, request: Any) -> Any:
        request.urlconf = self.urls
        return super().get_response(request)


class _ASGI(ASGIHandler):  # type: ignore[misc]
    def __init__(self, urls: Urls, middleware: list[str]) -> None:
        with override_settings(MIDDLEWARE=middleware):
            super().__init__()
        self.urls = urls

    async def get_response_async(self, request: Any) -> Any:
        request.urlconf = self.urls
        return await super().get_response_async(request)


def wsgi_app(patterns: list[Any], middleware: list[str] | None = None) -> Any:
    """A Django WSGI handler serving ``patterns`` (bastion's middleware by default)."""
    return _WSGI(Urls(patterns), middleware or [BASTION_MIDDLEWARE])


def asgi_app(patterns: list[Any], middleware: list[str] | None = None) -> Any:
    """A Django ASGI handler serving ``patterns`` (bastion's middleware by default)."""
    return _ASGI(Urls(patterns), middleware or [BASTION_MIDDLEWARE])
