"""The process-wide current :class:`~bastion.app.Bastion`, set by :func:`bastion.init`.

The seed's API (``verify_session()``, claim classes built at import time) has no parameter for
the app, so one app per process is current. Everything inside bastion still receives the app
explicitly; only the public entry points look it up here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.clock import Clock, SystemClock
from bastion.errors import ConfigError

if TYPE_CHECKING:
    from bastion.app import Bastion

__all__ = ["current_app", "current_clock", "set_current_app"]

_current: Bastion | None = None
_system_clock = SystemClock()


def set_current_app(app: Bastion | None) -> None:
    global _current
    _current = app


def current_app() -> Bastion:
    """The app set up by :func:`bastion.init`; raises if there is none."""
    if _current is None:
        raise ConfigError("bastion is not initialised: call bastion.init(...) first")
    return _current


def current_clock() -> Clock:
    """The current app's clock, or the system clock before ``init``."""
    return _current.clock if _current is not None else _system_clock
