"""Turn a framework's request object into a :class:`~bastion.http.types.BaseRequest`."""

from __future__ import annotations

from typing import Any

from bastion.errors import ConfigError
from bastion.http.types import BaseRequest

__all__ = ["wrap_request"]


def wrap_request(request: Any) -> BaseRequest:
    """Accept a bastion request, a Starlette/FastAPI request, or a Flask/Django request."""
    if isinstance(request, BaseRequest):
        return request
    module = type(request).__module__
    if module.startswith(("starlette", "fastapi")):
        from bastion.framework.asgi import ASGIRequest

        return ASGIRequest(request.scope, request.receive)
    if module.startswith(("flask", "werkzeug")):
        from bastion.framework.flask import FlaskRequest

        return FlaskRequest(request)
    if module.startswith("django"):
        from bastion.framework.django import DjangoRequest

        return DjangoRequest(request)
    raise ConfigError(f"bastion does not know how to read a {type(request).__name__} request")
