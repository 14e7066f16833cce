"""Email-password functions for async code; :mod:`.syncio` has the same ones."""

from __future__ import annotations

import uuid
from typing import Any

from bastion.core.passwords import hash_scheme
from bastion.email import deliver, render
from bastion.errors import ConfigError, MissingExtra
from bastion.recipe.emailpassword.interfaces import (
    CreateResetPasswordOkResult,
    EmailAlreadyExistsError,
    PasswordPolicyViolationError,
    ResetPasswordInvalidTokenError,
    ResetPasswordOkResult,
    SignInOkResult,
    SignUpOkResult,
    UnknownUserIdError,
    UpdateEmailOrPasswordOkResult,
    WrongCredentialsError,
)
from bastion.recipe.emailpassword.recipe import RECIPE_ID, EmailPasswordRecipe
from bastion.runtime import current_app
from bastion.users.emails import email_key, normalise_email
from bastion.users.model import User
from bastion.users.tokens import describe_lifetime

__all__ = [
    "create_reset_password_link",
    "import_user_with_password_hash",
    "create_reset_password_token",
    "reset_password_using_token",
    "send_reset_password_email",
    "sign_in",
    "sign_up",
    "update_email_or_password",
]


def _recipe() -> EmailPasswordRecipe:
    recipe = current_app().recipes.get(RECIPE_ID)
    if not isinstance(recipe, EmailPasswordRecipe):
        raise ConfigError("initialise the emailpassword recipe first")
    return recipe


def _ctx(user_context: dict[str, Any] | None) -> dict[str, Any]:
    return {} if user_context is None else user_context


async def sign_up(
    tenant_id: str, email: str, password: str, user_context: dict[str, Any] | None = None
) -> SignUpOkResult | EmailAlreadyExistsError:
    """Create a user (no session, no form validation)."""
    return await _recipe().recipe_implementation.sign_up(
        email, password, tenant_id, _ctx(user_context)
    )


async def sign_in(
    tenant_id: str, email: str, password: str, user_context: dict[str, Any] | None = None
) -> SignInOkResult | WrongCredentialsError:
    """Check credentials (no session, no throttling)."""
    return await _recipe().recipe_implementation.sign_in(
        email, password, tenant_id, _ctx(user_context)
    )


async def import_user_with_password_hash(
    tenant_id: str,
    email: str,
    password_hash: str,
    time_joined_ms: int | None = None,
    user_context: dict[str, Any] | None = None,
) -> SignUpOkResult | EmailAlreadyExistsError:
    """Create a user from another system's password hash (argon2 ``$argon2id$``/``i``/``d``,
    or bcrypt ``$2a$``/``$2b$``/``$2y$``). It is rehashed with argon2id at the first sign-in.

    Raises:
        ConfigError: the hash is in neither format.
        MissingExtra: a bcrypt hash without the ``bcrypt`` extra installed.
    """
    scheme = hash_scheme(password_hash)
    if scheme is None:
        raise ConfigError("password_hash must be an argon2 or bcrypt hash")
    if scheme == "bcrypt":
        try:
            import bcrypt  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise MissingExtra("bcrypt", "bcrypt") from exc
    recipe = _recipe()
    address = normalise_email(email)
    record = await recipe.app.store.create_password_user(
        user_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        email=address,
        email_key=email_key(address),
        password_hash=password_hash,
        now_ms=recipe.app.clock.now_ms() if time_joined_ms is None else time_joined_ms,
    )
    if record is None:
        return EmailAlreadyExistsError()
    return SignUpOkResult(User.from_record(record))


async def create_reset_password_token(
    tenant_id: str, user_id: str, user_context: dict[str, Any] | None = None
) -> CreateResetPasswordOkResult | UnknownUserIdError:
    return await _recipe().recipe_implementation.create_reset_password_token(
        user_id, tenant_id, _ctx(user_context)
    )


async def create_reset_password_link(
    tenant_id: str, user_id: str, user_context: dict[str, Any] | None = None
) -> str | UnknownUserIdError:
    """The website's reset link for a new token."""
    created = await create_reset_password_token(tenant_id, user_id, user_context)
    if isinstance(created, UnknownUserIdError):
        return created
    return _recipe().reset_password_link(created.token, tenant_id)


async def send_reset_password_email(
    tenant_id: str, user_id: str, user_context: dict[str, Any] | None = None
) -> bool:
    """Email a reset link to the user's address; False for an unknown user."""
    recipe = _recipe()
    credential = await current_app().store.get_password_credential_of_user(user_id)
    if credential is None:
        return False
    link = await create_reset_password_link(tenant_id, user_id, user_context)
    if isinstance(link, UnknownUserIdError):
        return False
    app_name = recipe.app.app_info.app_name
    await deliver(
        recipe.config.email_delivery,
        render(
            "password-reset",
            to=credential.email,
            subject=f"Reset your {app_name} password",
            app_name=app_name,
            link=link,
            valid_for=describe_lifetime(recipe.config.reset_token_lifetime_s),
        ),
    )
    return True


async def reset_password_using_token(
    tenant_id: str, token: str, new_password: str, user_context: dict[str, Any] | None = None
) -> ResetPasswordOkResult | ResetPasswordInvalidTokenError:
    """Use up a reset token and set the password (no policy check)."""
    return await _recipe().recipe_implementation.reset_password_using_token(
        token, new_password, tenant_id, _ctx(user_context)
    )


async def update_email_or_password(
    recipe_user_id: str,
    email: str | None = None,
    password: str | None = None,
    apply_password_policy: bool | None = None,
    tenant_id_for_password_policy: str = "public",  # noqa: S107
    user_context: dict[str, Any] | None = None,
) -> (
    UpdateEmailOrPasswordOkResult
    | UnknownUserIdError
    | EmailAlreadyExistsError
    | PasswordPolicyViolationError
):
    """Change the email and/or the password (sessions are revoked on a password change
    unless the recipe was configured otherwise)."""
    return await _recipe().recipe_implementation.update_email_or_password(
        recipe_user_id,
        email,
        password,
        apply_password_policy,
        tenant_id_for_password_policy,
        _ctx(user_context),
    )
