"""Email-verification functions for async code; :mod:`.syncio` has the same ones."""

from __future__ import annotations

from typing import Any

from bastion.errors import ConfigError
from bastion.recipe.emailverification.recipe import RECIPE_ID, EmailVerificationRecipe
from bastion.runtime import current_app
from bastion.users.emails import email_key

__all__ = [
    "create_email_verification_link",
    "create_email_verification_token",
    "is_email_verified",
    "send_email_verification_email",
    "unverify_email",
    "verify_email_using_token",
]


def _recipe() -> EmailVerificationRecipe:
    recipe = current_app().recipes.get(RECIPE_ID)
    if not isinstance(recipe, EmailVerificationRecipe):
        raise ConfigError("initialise the emailverification recipe first")
    return recipe


async def _email(recipe: EmailVerificationRecipe, user_id: str, email: str | None) -> str | None:
    return email if email is not None else await recipe.email_of(user_id, {})


async def create_email_verification_token(
    tenant_id: str,
    recipe_user_id: str,
    email: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> str | None:
    """A verification token, or None when the user has no email or it is already verified."""
    recipe = _recipe()
    address = await _email(recipe, recipe_user_id, email)
    if address is None or await recipe.is_email_verified(recipe_user_id, {}, address):
        return None
    return await recipe.create_token(recipe_user_id, address)


async def create_email_verification_link(
    tenant_id: str,
    recipe_user_id: str,
    email: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> str | None:
    """The website link for a new verification token (None as for the token)."""
    token = await create_email_verification_token(tenant_id, recipe_user_id, email, user_context)
    return None if token is None else _recipe().verification_link(token, tenant_id)


async def send_email_verification_email(
    tenant_id: str,
    recipe_user_id: str,
    email: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> bool:
    """Email a verification link; False when there is nothing to verify."""
    recipe = _recipe()
    address = await _email(recipe, recipe_user_id, email)
    if address is None or await recipe.is_email_verified(recipe_user_id, {}, address):
        return False
    await recipe.send_verification_email(recipe_user_id, address)
    return True


async def verify_email_using_token(
    tenant_id: str, token: str, user_context: dict[str, Any] | None = None
) -> str | None:
    """Use up a token; the verified user's id, or None if the token is not valid."""
    return await _recipe().verify_token(token, user_context or {})


async def is_email_verified(
    recipe_user_id: str, email: str | None = None, user_context: dict[str, Any] | None = None
) -> bool:
    return await _recipe().is_email_verified(recipe_user_id, user_context or {}, email)


async def unverify_email(
    recipe_user_id: str, email: str | None = None, user_context: dict[str, Any] | None = None
) -> None:
    recipe = _recipe()
    address = await _email(recipe, recipe_user_id, email)
    if address is not None:
        await current_app().store.set_email_verified(recipe_user_id, email_key(address), False)
