"""Users, their login methods and verified emails: the protocol and its SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bastion.storage.sql import SQLStoreBase, Tx, query, snapshot, transaction

__all__ = [
    "EMAILPASSWORD",
    "LoginMethodRecord",
    "UserQueries",
    "UserRecord",
    "UserStore",
    "load_users",
    "marks",
]

EMAILPASSWORD = "emailpassword"


@dataclass(frozen=True, slots=True)
class LoginMethodRecord:
    """One way a user signs in (today: an email and password)."""

    recipe_id: str
    recipe_user_id: str
    tenant_id: str
    email: str | None
    time_joined_ms: int
    verified: bool
    """Whether ``email`` is verified for this login method."""
    phone_number: str | None = None
    """E.164 phone number (passwordless logins by SMS)."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user and its login methods."""

    id: str
    time_joined_ms: int
    login_methods: tuple[LoginMethodRecord, ...]


class UserStore(Protocol):
    """Users, their login methods and which of their emails are verified."""

    async def create_password_user(
        self,
        *,
        user_id: str,
        tenant_id: str,
        email: str,
        email_key: str,
        password_hash: str,
        now_ms: int,
    ) -> UserRecord | None:
        """Create a user with an email-password login, in one transaction.

        Returns None (and writes nothing) if the tenant already has that ``email_key``. Of
        concurrent sign-ups with one email, on any processes, exactly one creates a user: the
        unique index on ``(recipe_id, tenant_id, email_key)`` settles the race.
        """
        ...

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user whose id, or one of whose recipe user ids, is ``user_id`` (one snapshot)."""
        ...

    async def list_users_by_email(self, email_key: str, *, tenant_id: str) -> list[UserRecord]:
        """Users with a login method for ``email_key``, oldest first (one snapshot)."""
        ...

    async def list_users(
        self,
        *,
        tenant_id: str,
        newest_first: bool,
        limit: int,
        after: tuple[int, str] | None,
    ) -> list[UserRecord]:
        """A page of users ordered by ``(time_joined_ms, id)``, starting after ``after``
        (one snapshot; pages read at different times may see users come and go)."""
        ...

    async def count_users(self, *, tenant_id: str) -> int:
        """Users with a login method in ``tenant_id``."""
        ...

    async def delete_user(self, user_id: str) -> bool:
        """Delete the user, its login methods, tokens, verified emails and sessions, in one
        transaction; False if there was no such user. A session created concurrently with the
        deletion may survive it (it belongs to no user; ``check_database`` refuses it)."""
        ...

    async def set_email_verified(self, recipe_user_id: str, email_key: str, verified: bool) -> None:
        """Mark (or unmark) ``email_key`` as verified for ``recipe_user_id``; idempotent."""
        ...

    async def is_email_verified(self, recipe_user_id: str, email_key: str) -> bool: ...


def marks(values: Sequence[object]) -> str:
    """``?,?,…``: one placeholder per value."""
    return ",".join("?" * len(values))


def load_users(tx: Tx, user_ids: list[str]) -> list[UserRecord]:
    """The users with these ids, in the given order (missing ones skipped)."""
    if not user_ids:
        return []
    ids = marks(user_ids)
    joined = dict(
        (row[0], row[1])
        for row in tx.all(f"SELECT id, time_joined_ms FROM users WHERE id IN ({ids})", user_ids)  # noqa: S608
    )
    methods: dict[str, list[LoginMethodRecord]] = {uid: [] for uid in joined}
    rows = tx.all(
        "SELECT lm.user_id, lm.recipe_id, lm.recipe_user_id, lm.tenant_id, lm.email, "  # noqa: S608
        "lm.time_joined_ms, EXISTS (SELECT 1 FROM verified_emails v "
        "WHERE v.recipe_user_id = lm.recipe_user_id AND v.email_key = lm.email_key), "
        f"lm.phone_number FROM login_methods lm WHERE lm.user_id IN ({ids}) "
        "ORDER BY lm.time_joined_ms, lm.recipe_user_id",
        user_ids,
    )
    for user_id, recipe_id, recipe_user_id, tenant_id, email, at, verified, phone in rows:
        if user_id in methods:
            methods[user_id].append(
                LoginMethodRecord(
                    recipe_id, recipe_user_id, tenant_id, email, at, bool(verified), phone
                )
            )
    return [UserRecord(uid, joined[uid], tuple(methods[uid])) for uid in user_ids if uid in joined]


def users_with(tx: Tx, column: str, value: str, tenant_id: str) -> list[UserRecord]:
    """Users with a login method whose ``column`` (``email_key`` or ``phone_number``) is
    ``value`` in ``tenant_id``, oldest first."""
    rows = tx.all(
        "SELECT DISTINCT lm.user_id, u.time_joined_ms FROM login_methods lm "  # noqa: S608
        f"JOIN users u ON u.id = lm.user_id WHERE lm.{column} = ? AND lm.tenant_id = ? "
        "ORDER BY u.time_joined_ms, lm.user_id",
        (value, tenant_id),
    )
    return load_users(tx, [r[0] for r in rows])


class UserQueries(SQLStoreBase):
    """:class:`UserStore` in SQL."""

    @transaction
    def create_password_user(
        self,
        tx: Tx,
        *,
        user_id: str,
        tenant_id: str,
        email: str,
        email_key: str,
        password_hash: str,
        now_ms: int,
    ) -> UserRecord | None:
        taken = tx.one(
            "SELECT 1 FROM login_methods WHERE recipe_id = ? AND tenant_id = ? AND email_key = ?",
            (EMAILPASSWORD, tenant_id, email_key),
        )
        if taken:
            return None
        tx.execute("INSERT INTO users (id, time_joined_ms) VALUES (?, ?)", (user_id, now_ms))
        # A concurrent sign-up that the check above cannot see yet makes this insert hit the
        # unique index; the unit is then run again and the check sees it (sql.Database.run).
        tx.execute(
            "INSERT INTO login_methods (recipe_user_id, user_id, recipe_id, tenant_id, email, "
            "email_key, time_joined_ms) VALUES (?,?,?,?,?,?,?)",
            (user_id, user_id, EMAILPASSWORD, tenant_id, email, email_key, now_ms),
        )
        tx.execute(
            "INSERT INTO password_credentials (recipe_user_id, password_hash) VALUES (?, ?)",
            (user_id, password_hash),
        )
        return load_users(tx, [user_id])[0]

    @snapshot
    def get_user(self, tx: Tx, user_id: str) -> UserRecord | None:
        row = tx.one("SELECT user_id FROM login_methods WHERE recipe_user_id = ?", (user_id,))
        found = load_users(tx, [row[0] if row else user_id])
        return found[0] if found else None

    @snapshot
    def list_users_by_email(self, tx: Tx, email_key: str, *, tenant_id: str) -> list[UserRecord]:
        return users_with(tx, "email_key", email_key, tenant_id)

    @snapshot
    def list_users(
        self,
        tx: Tx,
        *,
        tenant_id: str,
        newest_first: bool,
        limit: int,
        after: tuple[int, str] | None,
    ) -> list[UserRecord]:
        order = "DESC" if newest_first else "ASC"
        beyond = "<" if newest_first else ">"
        sql = (
            "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM login_methods lm "
            "WHERE lm.user_id = users.id AND lm.tenant_id = ?)"
        )
        params: list[object] = [tenant_id]
        if after is not None:
            sql += f" AND (time_joined_ms {beyond} ? OR (time_joined_ms = ? AND id {beyond} ?))"
            params += [after[0], after[0], after[1]]
        sql += f" ORDER BY time_joined_ms {order}, id {order} LIMIT ?"
        params.append(limit)
        return load_users(tx, [r[0] for r in tx.all(sql, params)])

    @query
    def count_users(self, tx: Tx, *, tenant_id: str) -> int:
        row = tx.one(
            "SELECT COUNT(DISTINCT user_id) FROM login_methods WHERE tenant_id = ?", (tenant_id,)
        )
        return int(row[0]) if row else 0

    @transaction
    def delete_user(self, tx: Tx, user_id: str) -> bool:
        recipe_ids = [
            r[0]
            for r in tx.all(
                "SELECT recipe_user_id FROM login_methods WHERE user_id = ?", (user_id,)
            )
        ]
        ids = sorted({user_id, *recipe_ids})
        ids_in = marks(ids)
        tx.execute(
            f"DELETE FROM sessions WHERE user_id IN ({ids_in}) OR recipe_user_id IN ({ids_in})",  # noqa: S608
            ids + ids,
        )
        tx.execute(f"DELETE FROM user_tokens WHERE user_id IN ({ids_in})", ids)  # noqa: S608
        tx.execute(f"DELETE FROM verified_emails WHERE recipe_user_id IN ({ids_in})", ids)  # noqa: S608
        if recipe_ids:
            tx.execute(
                f"DELETE FROM password_credentials WHERE recipe_user_id IN ({marks(recipe_ids)})",  # noqa: S608
                recipe_ids,
            )
        tx.execute("DELETE FROM login_methods WHERE user_id = ?", (user_id,))
        return tx.execute("DELETE FROM users WHERE id = ?", (user_id,)) == 1

    @transaction
    def set_email_verified(
        self, tx: Tx, recipe_user_id: str, email_key: str, verified: bool
    ) -> None:
        if verified:
            tx.execute(
                "INSERT INTO verified_emails (recipe_user_id, email_key) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                (recipe_user_id, email_key),
            )
        else:
            tx.execute(
                "DELETE FROM verified_emails WHERE recipe_user_id = ? AND email_key = ?",
                (recipe_user_id, email_key),
            )

    @query
    def is_email_verified(self, tx: Tx, recipe_user_id: str, email_key: str) -> bool:
        row = tx.one(
            "SELECT 1 FROM verified_emails WHERE recipe_user_id = ? AND email_key = ?",
            (recipe_user_id, email_key),
        )
        return row is not None
