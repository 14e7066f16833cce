"""Email-password credentials and single-use tokens: the protocols and their SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bastion.storage.sql import Row, SQLStoreBase, Tx, query, transaction
from bastion.storage.users import EMAILPASSWORD

__all__ = [
    "CredentialQueries",
    "CredentialStore",
    "PasswordCredential",
    "PasswordReset",
    "TokenQueries",
    "TokenRecord",
    "TokenStore",
]


@dataclass(frozen=True, slots=True)
class PasswordCredential:
    """An email-password login method with its stored hash."""

    user_id: str
    recipe_user_id: str
    tenant_id: str
    email: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class PasswordReset:
    """What :meth:`CredentialStore.reset_password_with_token` did."""

    recipe_user_id: str
    email_key: str
    """The normalised email the token was issued for (the login's current one)."""
    revoked_sessions: list[str]
    """Handles of the sessions deleted by the reset."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A single-use token (password reset, email verification); only its hash is stored."""

    purpose: str
    user_id: str
    email_key: str
    """The normalised email the token was issued for."""
    expires_at_ms: int


class CredentialStore(Protocol):
    """Email-password credentials."""

    async def get_password_credential(
        self, email_key: str, *, tenant_id: str
    ) -> PasswordCredential | None:
        """The email-password login of ``email_key`` in the tenant, with its hash."""
        ...

    async def get_password_credential_of_user(
        self, recipe_user_id: str
    ) -> PasswordCredential | None: ...

    async def replace_password_hash(
        self, recipe_user_id: str, new_hash: str, *, expected_hash: str
    ) -> bool:
        """Upgrade a hash (rehash on sign-in): only if the login still has ``expected_hash``,
        so an upgrade never undoes a concurrent password change (one conditional UPDATE)."""
        ...

    async def update_password_login(
        self,
        recipe_user_id: str,
        *,
        email: tuple[str, str] | None = None,
        password_hash: str | None = None,
        drop_tokens: str | None = None,
    ) -> Literal["OK", "UNKNOWN_USER", "EMAIL_EXISTS"]:
        """Change the email (``(email, email_key)``) and/or the password hash, in one
        transaction. A new email drops the user's pending tokens for the old one; with a new
        password, the user's pending tokens of purpose ``drop_tokens`` are dropped too. Two
        logins changing to one email at once: one gets OK, the other EMAIL_EXISTS."""
        ...

    async def reset_password_with_token(
        self,
        token_hash: str,
        *,
        purpose: str,
        new_hash: str,
        now_ms: int,
        revoke_sessions: bool,
        mark_email_verified: bool,
        clear_counter: tuple[str, str] | None = None,
    ) -> PasswordReset | None:
        """Complete a password reset in one transaction: all of it, or (a crash, a stale
        token) none of it.

        The live token must still name the login's current email. In the same transaction:
        the password is set and every reset token of the user is dropped; with
        ``revoke_sessions``, every session of the user is deleted, with the second-factor and
        setup codes bound to sessions; with ``mark_email_verified``, the token's email is marked
        verified (the link proved the mailbox); the throttling counter ``clear_counter``
        (``(name, stored key)``: the sign-in lock) is deleted. None if the token is not valid.
        The token's row is locked first, so of concurrent resets with one token exactly one
        works; a session created concurrently for the user may survive the reset.
        """
        ...


class TokenStore(Protocol):
    """Single-use tokens, kept only as hashes."""

    async def add_token(
        self,
        token_hash: str,
        *,
        purpose: str,
        user_id: str,
        email_key: str,
        expires_at_ms: int,
        now_ms: int,
    ) -> None:
        """Store a token (and drop the user's expired ones)."""
        ...

    async def find_token(self, token_hash: str, *, purpose: str, now_ms: int) -> TokenRecord | None:
        """The live token with this hash, without using it up."""
        ...

    async def consume_token(
        self, token_hash: str, *, purpose: str, now_ms: int
    ) -> TokenRecord | None:
        """Use up a live token: it and the user's other tokens of ``purpose`` for the same
        email are deleted. None if it does not exist, has expired or was used. Of concurrent
        callers with one token at most one gets it (the DELETE that claims it is the check)."""
        ...

    async def delete_tokens(self, user_id: str, *, purpose: str | None = None) -> int:
        """Delete the user's tokens (of ``purpose``, or all); returns how many."""
        ...


_CREDENTIAL_SELECT = (
    "SELECT lm.user_id, lm.recipe_user_id, lm.tenant_id, lm.email, pc.password_hash "
    "FROM login_methods lm JOIN password_credentials pc ON pc.recipe_user_id = lm.recipe_user_id "
)


def _credential(row: Row | None) -> PasswordCredential | None:
    return None if row is None else PasswordCredential(*row)


class CredentialQueries(SQLStoreBase):
    """:class:`CredentialStore` in SQL."""

    @query
    def get_password_credential(
        self, tx: Tx, email_key: str, *, tenant_id: str
    ) -> PasswordCredential | None:
        return _credential(
            tx.one(
                _CREDENTIAL_SELECT
                + "WHERE lm.recipe_id = ? AND lm.tenant_id = ? AND lm.email_key = ?",
                (EMAILPASSWORD, tenant_id, email_key),
            )
        )

    @query
    def get_password_credential_of_user(
        self, tx: Tx, recipe_user_id: str
    ) -> PasswordCredential | None:
        return _credential(
            tx.one(_CREDENTIAL_SELECT + "WHERE lm.recipe_user_id = ?", (recipe_user_id,))
        )

    @transaction
    def replace_password_hash(
        self, tx: Tx, recipe_user_id: str, new_hash: str, *, expected_hash: str
    ) -> bool:
        changed = tx.execute(
            "UPDATE password_credentials SET password_hash = ? "
            "WHERE recipe_user_id = ? AND password_hash = ?",
            (new_hash, recipe_user_id, expected_hash),
        )
        return changed == 1

    @transaction
    def update_password_login(
        self,
        tx: Tx,
        recipe_user_id: str,
        *,
        email: tuple[str, str] | None = None,
        password_hash: str | None = None,
        drop_tokens: str | None = None,
    ) -> Literal["OK", "UNKNOWN_USER", "EMAIL_EXISTS"]:
        row = tx.one(
            "SELECT lm.recipe_id, lm.tenant_id, lm.email_key FROM login_methods lm "
            "JOIN password_credentials pc ON pc.recipe_user_id = lm.recipe_user_id "
            "WHERE lm.recipe_user_id = ?",
            (recipe_user_id,),
            for_update=True,
        )
        if row is None:
            return "UNKNOWN_USER"
        recipe_id, tenant_id, old_key = row
        if email is not None:
            new_email, new_key = email
            # A concurrent writer of the same email that this check cannot see yet makes the
            # UPDATE hit the unique index; the unit is then run again and sees its row.
            taken = tx.one(
                "SELECT 1 FROM login_methods WHERE recipe_id = ? AND tenant_id = ? "
                "AND email_key = ? AND recipe_user_id <> ?",
                (recipe_id, tenant_id, new_key, recipe_user_id),
            )
            if taken:
                return "EMAIL_EXISTS"
            tx.execute(
                "UPDATE login_methods SET email = ?, email_key = ? WHERE recipe_user_id = ?",
                (new_email, new_key, recipe_user_id),
            )
            if new_key != old_key:
                tx.execute(
                    "DELETE FROM user_tokens WHERE user_id = ? AND email_key = ?",
                    (recipe_user_id, old_key),
                )
        if password_hash is not None:
            tx.execute(
                "UPDATE password_credentials SET password_hash = ? WHERE recipe_user_id = ?",
                (password_hash, recipe_user_id),
            )
            if drop_tokens is not None:
                tx.execute(
                    "DELETE FROM user_tokens WHERE user_id = ? AND purpose = ?",
                    (recipe_user_id, drop_tokens),
                )
        return "OK"

    @transaction
    def reset_password_with_token(
        self,
        tx: Tx,
        token_hash: str,
        *,
        purpose: str,
        new_hash: str,
        now_ms: int,
        revoke_sessions: bool,
        mark_email_verified: bool,
        clear_counter: tuple[str, str] | None = None,
    ) -> PasswordReset | None:
        row = tx.one(
            "SELECT user_id, email_key FROM user_tokens WHERE token_hash = ? AND purpose = ? "
            "AND expires_at_ms > ?",
            (token_hash, purpose, now_ms),
            for_update=True,  # a concurrent reset with this token waits, then finds it gone
        )
        if row is None:
            return None
        user_id, email_key = row
        changed = tx.execute(
            "UPDATE password_credentials SET password_hash = ? WHERE recipe_user_id = ? "
            "AND EXISTS (SELECT 1 FROM login_methods lm WHERE lm.recipe_user_id = ? "
            "AND lm.email_key = ?)",
            (new_hash, user_id, user_id, email_key),
        )
        if changed != 1:
            return None  # the login's email changed since: the token is stale (no writes)
        tx.execute("DELETE FROM user_tokens WHERE user_id = ? AND purpose = ?", (user_id, purpose))
        revoked: list[str] = []
        if revoke_sessions:
            revoked = [
                r[0]
                for r in tx.all(
                    "DELETE FROM sessions WHERE user_id = ? OR recipe_user_id = ? RETURNING handle",
                    (user_id, user_id),
                )
            ]
            tx.execute(
                "DELETE FROM passwordless_devices WHERE user_id = ? AND session_handle IS NOT NULL",
                (user_id,),
            )
        if mark_email_verified:
            tx.execute(
                "INSERT INTO verified_emails (recipe_user_id, email_key) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                (user_id, email_key),
            )
        if clear_counter is not None:
            tx.execute(
                "DELETE FROM rate_counters WHERE name = ? AND counter_key = ?", clear_counter
            )
        return PasswordReset(str(user_id), str(email_key), sorted(revoked))


class TokenQueries(SQLStoreBase):
    """:class:`TokenStore` in SQL."""

    @transaction
    def add_token(
        self,
        tx: Tx,
        token_hash: str,
        *,
        purpose: str,
        user_id: str,
        email_key: str,
        expires_at_ms: int,
        now_ms: int,
    ) -> None:
        tx.execute(
            "DELETE FROM user_tokens WHERE user_id = ? AND expires_at_ms <= ?", (user_id, now_ms)
        )
        tx.execute(
            "INSERT INTO user_tokens (token_hash, purpose, user_id, email_key, expires_at_ms) "
            "VALUES (?,?,?,?,?)",
            (token_hash, purpose, user_id, email_key, expires_at_ms),
        )

    @query
    def find_token(
        self, tx: Tx, token_hash: str, *, purpose: str, now_ms: int
    ) -> TokenRecord | None:
        row = tx.one(
            "SELECT purpose, user_id, email_key, expires_at_ms FROM user_tokens "
            "WHERE token_hash = ? AND purpose = ? AND expires_at_ms > ?",
            (token_hash, purpose, now_ms),
        )
        return None if row is None else TokenRecord(*row)

    @transaction
    def consume_token(
        self, tx: Tx, token_hash: str, *, purpose: str, now_ms: int
    ) -> TokenRecord | None:
        row = tx.one(
            "DELETE FROM user_tokens WHERE token_hash = ? AND purpose = ? "
            "RETURNING purpose, user_id, email_key, expires_at_ms",
            (token_hash, purpose),
        )
        if row is None:
            return None
        record = TokenRecord(*row)
        if record.expires_at_ms <= now_ms:
            return None  # an expired token is used up all the same
        tx.execute(
            "DELETE FROM user_tokens WHERE user_id = ? AND purpose = ? AND email_key = ?",
            (record.user_id, purpose, record.email_key),
        )
        return record

    @transaction
    def delete_tokens(self, tx: Tx, user_id: str, *, purpose: str | None = None) -> int:
        if purpose is None:
            return tx.execute("DELETE FROM user_tokens WHERE user_id = ?", (user_id,))
        return tx.execute(
            "DELETE FROM user_tokens WHERE user_id = ? AND purpose = ?", (user_id, purpose)
        )
