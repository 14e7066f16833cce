"""The session recipe: ``init`` it, then protect routes with ``verify_session``."""

from bastion.http.responses import ErrorHandlers as InputErrorHandlers
from bastion.recipe.session.recipe import AAL2, InputOverrideConfig
from bastion.recipe.session.recipe import session_init as init
from bastion.sessions.container import SessionContainer

SessionOverrideConfig = InputOverrideConfig

__all__ = [
    "AAL2",
    "InputErrorHandlers",
    "InputOverrideConfig",
    "SessionContainer",
    "SessionOverrideConfig",
    "init",
]
