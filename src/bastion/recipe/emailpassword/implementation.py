"""The default :class:`RecipeInterface`: users and credentials in the app's store.

Hashing happens before the store call that writes it, never inside a transaction.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from bastion.audit import EventType, Outcome
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
            await self._reset_event(Outcome.FAILURE, None, user_context, "invalid_token")
            return ResetPasswordInvalidTokenError()  # no hashing for a token that is not live
        new_hash = await self._hash_new(new_password)
        recipe = self.recipe
        # One store call, one transaction: a crash leaves the reset done or not done at all.
        done = await self.store.reset_password_with_token(
            digest,
            purpose=PASSWORD_RESET,
            new_hash=new_hash,
            now_ms=self.clock.now_ms(),
            revoke_sessions=recipe.config.revoke_sessions_on_password_change,
            mark_email_verified="emailverification" in recipe.app.recipes,
            clear_counter=recipe.sign_in_lock_counter(pending.email_key),
        )
        if done is None:
            await self._reset_event(Outcome.FAILURE, None, user_context, "invalid_token")
            return ResetPasswordInvalidTokenError()
        await self._reset_event(Outcome.SUCCESS, done.recipe_user_id, user_context)
        for handle in done.revoked_sessions:
            await recipe.app.audit.emit(
                EventType.SESSION_REVOKED,
                Outcome.SUCCESS,
                user_context=user_context,
                user_id=done.recipe_user_id,
                session_handle=handle,
                reason="password_reset",
            )
        return ResetPasswordOkResult(done.recipe_user_id)

    async def _reset_event(
        self,
        outcome: Outcome,
        user_id: str | None,
        user_context: dict[str, Any],
        reason: str | None = None,
    ) -> None:
        await self.recipe.app.audit.emit(
            EventType.PASSWORD_RESET_COMPLETED,
            outcome,
            user_context=user_context,
            user_id=user_id,
            reason=reason,
        )

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
        current_key = email_key(current.email)
        new_email: tuple[str, str] | None = None
        if email is not None:
            normalised = normalise_email(email)
            new_email = (normalised, email_key(normalised))
        new_hash: str | None = None
        if password is not None:
            if apply_password_policy is not False:
                reason = await self._policy_problem(
                    password,
                    new_email[0] if new_email else current.email,
                    tenant_id_for_password_policy,
                )
                if reason is not None:
                    return PasswordPolicyViolationError(reason)
            if self.hasher.is_too_long(password):
                return PasswordPolicyViolationError(self._too_long_message())
            new_hash = await self.hasher.hash(password)
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
        changed = [EventType.EMAIL_CHANGED] if new_email and new_email[1] != current_key else []
        if new_hash is not None:
            changed.append(EventType.PASSWORD_CHANGED)
        for event in changed:
            await self.recipe.app.audit.emit(
                event, Outcome.SUCCESS, user_context=user_context, user_id=current.user_id
            )
        if new_hash is not None:
            key = new_email[1] if new_email else current_key
            await self.recipe.after_password_change(
                recipe_user_id, key, email_proven=False, user_context=user_context
            )
        return UpdateEmailOrPasswordOkResult()

    async def _policy_problem(self, password: str, email: str, tenant_id: str) -> str | None:
        """The password field's rule (as at reset), then the screening; None if it passes."""
        spec = self.recipe.config.reset_password_fields[0]
        if spec.validate is not None:
            reason = await maybe_await(spec.validate(password, tenant_id))
            if reason is not None:
                return str(reason)
        return self.recipe.screen_password(password, email)
