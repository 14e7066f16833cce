"""Fixtures for session tests: the session test app served over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apps import session_app


@pytest.fixture
def server(init_app: Any, serve: Any) -> Any:
    """bastion with default session settings (and the test clock), served over HTTP."""
    init_app()
    return serve(session_app.build())


@pytest.fixture
def configured_server(init_app: Any, serve: Any) -> Any:
    """``configured_server(**session_settings)``: like ``server`` with custom settings."""

    def start(**settings: Any) -> Any:
        init_app(**settings)
        return serve(session_app.build())

    return start
