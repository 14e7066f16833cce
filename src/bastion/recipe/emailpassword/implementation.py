"""The default :class:`RecipeInterface`: users and credentials in the app's store.

Hashing happens before the store call that writes it, never inside a transaction.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from bastion.bridge import maybe_await
from bastion.errors import BadInputError
from bastion.recipe.emailpassword.interfaces import (
    CreateResetPasswordOkResult,
    EmailAlreadyExistsError,
    PasswordPolicyViolationError,
    RecipeInterface,
    ResetPasswordInvalidTokenError,
    ResetPasswordOkResult,
    SignInOkResult,
    SignUpOkResult,
    UnknownUserIdError,
    UpdateEmailOrPasswordOkResult,
    WrongCredentialsError,
)
from bastion.users.emails import email_key, normalise_email
from bastion.users.model import User
from bastion.users.tokens import PASSWORD_RESET, new_token, token_hash

if TYPE_CHECKING:
    from bastion.recipe.emailpassword.recipe import EmailPasswordRecipe

__all__ = ["RecipeImplementation"]


class RecipeImplementation(RecipeInterface):
    """Sign-up, sign-in, reset tokens and credential changes."""

    def __init__(self, recipe: EmailPasswordRecipe) -> None:
        self.recipe = recipe
        self.store = recipe.app.store
        self.clock = recipe.app.clock
        self.hasher = recipe.hasher

    def _too_long_message(self) -> str:
        return f"Password's length must be at most {self.hasher.params.max_length} characters"

    async def _hash_new(self, password: str) -> str:
        if self.hasher.is_too_long(password):
            raise BadInputError(self._too_long_message())
        return await self.hasher.hash(password)

    async def sign_up(
        self, email: str, password: str, tenant_id: str, user_context: dict[str, Any]
    ) -> SignUpOkResult | EmailAlreadyExistsError:
        email = normalise_email(email)
        key = email_key(email)
        if await self.store.get_password_credential(key, tenant_id=tenant_id) is not None:
            return EmailAlreadyExistsError()  # no hashing for a sign-up that cannot succeed
        password_hash = await self._hash_new(password)
        record = await self.store.create_password_user(
            user_id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            email=email,
            email_key=key,
            password_hash=password_hash,
            now_ms=self.clock.now_ms(),
        )
        if record is None:
            return EmailAlreadyExistsError()
        return SignUpOkResult(User.from_record(record))

    async def sign_in(
        self, email: str, password: str, tenant_id: str, user_context: dict[str, Any]
    ) -> SignInOkResult | WrongCredentialsError:
        credential = await self.store.get_password_credential(email_key(email), tenant_id=tenant_id)
        # An unknown email is checked against a dummy hash: same work, same time, same answer.
        stored = credential.password_hash if credential else self.recipe.dummy_hash
        matches = await self.hasher.verify(stored, password)
        if credential is None or not matches:
            return WrongCredentialsError()
        if self.hasher.needs_rehash(credential.password_hash):
            upgraded = await self.hasher.hash(password)
            await self.store.replace_password_hash(
                credential.recipe_user_id, upgraded, expected_hash=credential.password_hash
            )
        record = await self.store.get_user(credential.user_id)
        if record is None:
            return WrongCredentialsError()  # deleted meanwhile
        return SignInOkResult(User.from_record(record))

    async def create_reset_password_token(
        self, user_id: str, tenant_id: str, user_context: dict[str, Any]
    ) -> CreateResetPasswordOkResult | UnknownUserIdError:
        credential = await self.store.get_password_credential_of_user(user_id)
        if credential is None:
            return UnknownUserIdError()
        token, digest = new_token()
        now = self.clock.now_ms()
        await self.store.add_token(
            digest,
            purpose=PASSWORD_RESET,
            user_id=credential.recipe_user_id,
            email_key=email_key(credential.email),
            expires_at_ms=now + self.recipe.config.reset_token_lifetime_s * 1000,
            now_ms=now,
        )
        return CreateResetPasswordOkResult(token)

    async def reset_password_using_token(
        self, token: str, new_password: str, tenant_id: str, user_context: dict[str, Any]
    ) -> ResetPasswordOkResult | ResetPasswordInvalidTokenError:
        digest = token_hash(token)
        pending = await self.store.find_token(
            digest, purpose=PASSWORD_RESET, now_ms=self.clock.now_ms()
        )
        if pending is None:
            return ResetPasswordInvalidTokenError()  # no hashing for a token that is not live
        new_hash = await self._hash_new(new_password)
        user_id = await self.store.reset_password_with_token(
            digest, purpose=PASSWORD_RESET, new_hash=new_hash, now_ms=self.clock.now_ms()
        )
        if user_id is None:
            return ResetPasswordInvalidTokenError()
        await self.recipe.after_password_change(
            user_id, pending.email_key, email_proven=True, user_context=user_context
        )
        return ResetPasswordOkResult(user_id)

    async def update_email_or_password(
        self,
        recipe_user_id: str,
        email: str | None,
        password: str | None,
        apply_password_policy: bool | None,
        tenant_id_for_password_policy: str,
        user_context: dict[str, Any],
    ) -> (
        UpdateEmailOrPasswordOkResult
        | UnknownUserIdError
        | EmailAlreadyExistsError
        | PasswordPolicyViolationError
    ):
        current = await self.store.get_password_credential_of_user(recipe_user_id)
        if current is None:
            return UnknownUserIdError()
        new_hash: str | None = None
        if password is not None:
            if apply_password_policy is not False:
                spec = self.recipe.config.reset_password_fields[0]
                if spec.validate is not None:
                    reason = await maybe_await(
                        spec.validate(password, tenant_id_for_password_policy)
                    )
                    if reason is not None:
                        return PasswordPolicyViolationError(str(reason))
            if self.hasher.is_too_long(password):
                return PasswordPolicyViolationError(self._too_long_message())
            new_hash = await self.hasher.hash(password)
        new_email: tuple[str, str] | None = None
        if email is not None:
            normalised = normalise_email(email)
            new_email = (normalised, email_key(normalised))
        outcome = await self.store.update_password_login(
            recipe_user_id,
            email=new_email,
            password_hash=new_hash,
            drop_tokens=PASSWORD_RESET if new_hash is not None else None,
        )
        if outcome == "UNKNOWN_USER":
            return UnknownUserIdError()
        if outcome == "EMAIL_EXISTS":
            return EmailAlreadyExistsError()
        if new_hash is not None:
            key = new_email[1] if new_email else email_key(current.email)
            await self.recipe.after_password_change(
                recipe_user_id, key, email_proven=False, user_context=user_context
            )
        return UpdateEmailOrPasswordOkResult()
