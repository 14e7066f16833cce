"""bastion: in-process authentication for Python web apps.

Sessions, session claims and multi-factor auth, wire-compatible with the SuperTokens frontend
SDKs. Start with :func:`init`.
"""

import logging

from bastion.app import Bastion, init
from bastion.appinfo import InputAppInfo
from bastion.clock import Clock, ManualClock, SystemClock

__all__ = [
    "Bastion",
    "Clock",
    "InputAppInfo",
    "ManualClock",
    "SystemClock",
    "get_all_cors_headers",
    "init",
]

__version__ = "0.1.0"

# A library leaves logging output to the app (no "No handlers could be found" noise).
logging.getLogger("bastion").addHandler(logging.NullHandler())


def get_all_cors_headers() -> list[str]:
    """The request headers the frontend SDKs send; allow them (and ``Content-Type``) in CORS."""
    return ["anti-csrf", "authorization", "fdi-version", "rid", "st-auth-mode"]
