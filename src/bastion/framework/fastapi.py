"""FastAPI (and Starlette) integration: ``app.add_middleware(get_middleware())``."""

from __future__ import annotations

from bastion.framework.asgi import BastionMiddleware

__all__ = ["get_middleware"]


def get_middleware() -> type[BastionMiddleware]:
    """The ASGI middleware class to pass to ``app.add_middleware``."""
    return BastionMiddleware
