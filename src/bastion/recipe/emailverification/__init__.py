"""Email verification: the ``st-ev`` claim and the verify-by-link flow (spec sections 7.6, 8).

In ``REQUIRED`` mode every ``verify_session`` answers 403 ``st-ev`` until the user has opened
the emailed link; in ``OPTIONAL`` mode the claim is only kept up to date.
"""

from __future__ import annotations

from bastion.email.message import EmailBackend
from bastion.recipe.emailverification.claims import EmailVerificationClaim
from bastion.recipe.emailverification.recipe import (
    EmailGetter,
    EmailVerificationRecipe,
    EmailVerificationRecipeInit,
    Mode,
)

__all__ = ["EmailVerificationClaim", "EmailVerificationRecipe", "init"]


def init(
    mode: Mode = "REQUIRED",
    email_delivery: EmailBackend | None = None,
    get_email_for_recipe_user_id: EmailGetter | None = None,
    *,
    token_lifetime_s: int = 24 * 3600,
) -> EmailVerificationRecipeInit:
    """Configure email verification.

    Args:
        mode: ``"REQUIRED"`` (403 ``st-ev`` on every ``verify_session`` until verified) or
            ``"OPTIONAL"``.
        email_delivery: where verification emails go (the default prints them, for
            development).
        get_email_for_recipe_user_id: ``(user_id, user_context) -> email | None`` for users
            bastion does not know; by default the user's login email.
        token_lifetime_s: how long a verification link works (1 day).
    """
    return EmailVerificationRecipeInit(
        mode=mode,
        email_delivery=email_delivery,
        get_email_for_recipe_user_id=get_email_for_recipe_user_id,
        token_lifetime_s=token_lifetime_s,
    )
