"""The rule for sensitive operations: changing how a user signs in.

Adding or removing a factor or device, generating recovery codes, changing the email or the
password while signed in: each of these first calls :func:`verify_sensitive_operation`, which

1. looks the session up in the database: a revoked or expired session gets 401 at once, on
   every process, even while its access token has not expired;
2. asks every recipe of the app that has a ``check_sensitive_operation(session, user_context)``
   hook. The MFA recipe's hook wants, when the user already has a second factor, the MFA
   requirements met and one of those factors completed in this session within
   ``step_up_max_age_seconds`` (5 minutes by default); otherwise it answers the step-up 403
   (``st-mfa``, with an RFC 9470 ``WWW-Authenticate`` challenge) that the frontend can act on.

One exception, decided by the MFA recipe's setup guard: a session that owes a factor of which
the user has none yet (TOTP required, not set up) may set that factor up with only step 1;
no second factor could be recent there.

Recipes added later (roles, social login, passkeys) call the same function for their own
sensitive operations, and may add conditions through the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bastion.errors import UnauthorisedError

if TYPE_CHECKING:
    from bastion.app import Bastion
    from bastion.sessions.container import SessionContainer

__all__ = ["verify_live_session", "verify_sensitive_operation"]


async def verify_live_session(
    app: Bastion, session: SessionContainer, user_context: dict[str, Any]
) -> None:
    """Return if ``session`` still exists in the database; 401 (tokens cleared) otherwise."""
    implementation = app.session_recipe.recipe_implementation
    info = await implementation.get_session_information(session.get_handle(), user_context)
    if info is None:
        raise UnauthorisedError("Session does not exist anymore.")


async def verify_sensitive_operation(
    app: Bastion, session: SessionContainer, user_context: dict[str, Any]
) -> None:
    """Return if ``session`` may perform a sensitive operation now; raise otherwise.

    Raises:
        UnauthorisedError: the session was revoked or has expired (401, tokens cleared).
        InvalidClaimsError: a recipe wants more, such as a recent second factor (403).
    """
    await verify_live_session(app, session, user_context)
    for recipe in app.recipes.values():
        hook = getattr(recipe, "check_sensitive_operation", None)
        if hook is not None:
            await hook(session, user_context)
