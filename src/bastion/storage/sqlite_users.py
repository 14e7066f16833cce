"""SQLite storage for users, credentials, single-use tokens and throttling counters.

A mixin of :class:`~bastion.storage.sqlite.SQLiteStore`: it uses the store's per-thread
connection and its ``BEGIN IMMEDIATE`` transactions. Every multi-step write is one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Literal

from bastion.storage.base import (
    CounterState,
    LoginMethodRecord,
    PasswordCredential,
    PasswordReset,
    TokenRecord,
    UserRecord,
)

__all__ = ["SQLiteUserStoreMixin"]

EMAILPASSWORD = "emailpassword"
NO_CONSECUTIVE_LIMIT = 2**62

_CREDENTIAL_SELECT = (
    "SELECT lm.user_id, lm.recipe_user_id, lm.tenant_id, lm.email, pc.password_hash "
    "FROM login_methods lm JOIN password_credentials pc ON pc.recipe_user_id = lm.recipe_user_id "
)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class SQLiteUserStoreMixin:
    """``UserStore``, ``CredentialStore``, ``TokenStore`` and ``CounterStore`` on SQLite."""

    def _connection(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    # -- users ----------------------------------------------------------------------------------

    def _load_users(self, conn: sqlite3.Connection, user_ids: list[str]) -> list[UserRecord]:
        """The users with these ids, in the given order (missing ones skipped)."""
        if not user_ids:
            return []
        marks = _marks(user_ids)
        joined = dict(
            conn.execute(
                f"SELECT id, time_joined_ms FROM users WHERE id IN ({marks})",  # noqa: S608
                user_ids,
            ).fetchall()
        )
        methods: dict[str, list[LoginMethodRecord]] = {uid: [] for uid in joined}
        sql = (
            "SELECT lm.user_id, lm.recipe_id, lm.recipe_user_id, lm.tenant_id, lm.email, "  # noqa: S608
            "lm.time_joined_ms, EXISTS (SELECT 1 FROM verified_emails v "
            "WHERE v.recipe_user_id = lm.recipe_user_id AND v.email_key = lm.email_key), "
            f"lm.phone_number FROM login_methods lm WHERE lm.user_id IN ({marks}) "
            "ORDER BY lm.time_joined_ms, lm.recipe_user_id"
        )
        rows = conn.execute(sql, user_ids)
        for user_id, recipe_id, recipe_user_id, tenant_id, email, at, verified, phone in rows:
            methods[user_id].append(
                LoginMethodRecord(
                    recipe_id, recipe_user_id, tenant_id, email, at, bool(verified), phone
                )
            )
        return [
            UserRecord(uid, joined[uid], tuple(methods[uid])) for uid in user_ids if uid in joined
        ]

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
        try:
            with self._write() as conn:
                taken = conn.execute(
                    "SELECT 1 FROM login_methods WHERE recipe_id = ? AND tenant_id = ? "
                    "AND email_key = ?",
                    (EMAILPASSWORD, tenant_id, email_key),
                ).fetchone()
                if taken:
                    return None
                conn.execute(
                    "INSERT INTO users (id, time_joined_ms) VALUES (?, ?)", (user_id, now_ms)
                )
                conn.execute(
                    "INSERT INTO login_methods (recipe_user_id, user_id, recipe_id, tenant_id, "
                    "email, email_key, time_joined_ms) VALUES (?,?,?,?,?,?,?)",
                    (user_id, user_id, EMAILPASSWORD, tenant_id, email, email_key, now_ms),
                )
                conn.execute(
                    "INSERT INTO password_credentials (recipe_user_id, password_hash) "
                    "VALUES (?, ?)",
                    (user_id, password_hash),
                )
                return self._load_users(conn, [user_id])[0]
        except sqlite3.IntegrityError:
            return None  # the unique index settled a race the check above could not see

    async def get_user(self, user_id: str) -> UserRecord | None:
        conn = self._connection()
        row = conn.execute(
            "SELECT user_id FROM login_methods WHERE recipe_user_id = ?", (user_id,)
        ).fetchone()
        found = self._load_users(conn, [row[0] if row else user_id])
        return found[0] if found else None

    async def list_users_by_email(self, email_key: str, *, tenant_id: str) -> list[UserRecord]:
        conn = self._connection()
        rows = conn.execute(
            "SELECT DISTINCT lm.user_id, u.time_joined_ms FROM login_methods lm "
            "JOIN users u ON u.id = lm.user_id WHERE lm.email_key = ? AND lm.tenant_id = ? "
            "ORDER BY u.time_joined_ms, lm.user_id",
            (email_key, tenant_id),
        ).fetchall()
        return self._load_users(conn, [r[0] for r in rows])

    async def list_users(
        self,
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
        conn = self._connection()
        ids = [r[0] for r in conn.execute(sql, params)]
        return self._load_users(conn, ids)

    async def count_users(self, *, tenant_id: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT COUNT(DISTINCT user_id) FROM login_methods WHERE tenant_id = ?",
                (tenant_id,),
            )
            .fetchone()
        )
        return int(row[0])

    async def delete_user(self, user_id: str) -> bool:
        with self._write() as conn:
            recipe_ids = [
                r[0]
                for r in conn.execute(
                    "SELECT recipe_user_id FROM login_methods WHERE user_id = ?", (user_id,)
                )
            ]
            ids = sorted({user_id, *recipe_ids})
            marks = _marks(ids)
            conn.execute(
                f"DELETE FROM sessions WHERE user_id IN ({marks}) "  # noqa: S608
                f"OR recipe_user_id IN ({marks})",
                ids + ids,
            )
            conn.execute(f"DELETE FROM user_tokens WHERE user_id IN ({marks})", ids)  # noqa: S608
            conn.execute(f"DELETE FROM verified_emails WHERE recipe_user_id IN ({marks})", ids)  # noqa: S608
            if recipe_ids:
                conn.execute(
                    f"DELETE FROM password_credentials WHERE recipe_user_id IN ({_marks(recipe_ids)})",  # noqa: S608, E501
                    recipe_ids,
                )
            conn.execute("DELETE FROM login_methods WHERE user_id = ?", (user_id,))
            return conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount == 1

    async def set_email_verified(self, recipe_user_id: str, email_key: str, verified: bool) -> None:
        with self._write() as conn:
            if verified:
                conn.execute(
                    "INSERT INTO verified_emails (recipe_user_id, email_key) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (recipe_user_id, email_key),
                )
            else:
                conn.execute(
                    "DELETE FROM verified_emails WHERE recipe_user_id = ? AND email_key = ?",
                    (recipe_user_id, email_key),
                )

    async def is_email_verified(self, recipe_user_id: str, email_key: str) -> bool:
        row = (
            self._connection()
            .execute(
                "SELECT 1 FROM verified_emails WHERE recipe_user_id = ? AND email_key = ?",
                (recipe_user_id, email_key),
            )
            .fetchone()
        )
        return row is not None

    # -- credentials ----------------------------------------------------------------------------

    async def get_password_credential(
        self, email_key: str, *, tenant_id: str
    ) -> PasswordCredential | None:
        row = (
            self._connection()
            .execute(
                _CREDENTIAL_SELECT
                + "WHERE lm.recipe_id = ? AND lm.tenant_id = ? AND lm.email_key = ?",
                (EMAILPASSWORD, tenant_id, email_key),
            )
            .fetchone()
        )
        return PasswordCredential(*row) if row else None

    async def get_password_credential_of_user(
        self, recipe_user_id: str
    ) -> PasswordCredential | None:
        row = (
            self._connection()
            .execute(_CREDENTIAL_SELECT + "WHERE lm.recipe_user_id = ?", (recipe_user_id,))
            .fetchone()
        )
        return PasswordCredential(*row) if row else None

    async def replace_password_hash(
        self, recipe_user_id: str, new_hash: str, *, expected_hash: str
    ) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE password_credentials SET password_hash = ? "
                "WHERE recipe_user_id = ? AND password_hash = ?",
                (new_hash, recipe_user_id, expected_hash),
            )
            return cursor.rowcount == 1

    async def update_password_login(
        self,
        recipe_user_id: str,
        *,
        email: tuple[str, str] | None = None,
        password_hash: str | None = None,
        drop_tokens: str | None = None,
    ) -> Literal["OK", "UNKNOWN_USER", "EMAIL_EXISTS"]:
        with self._write() as conn:
            row = conn.execute(
                "SELECT lm.recipe_id, lm.tenant_id, lm.email_key FROM login_methods lm "
                "JOIN password_credentials pc ON pc.recipe_user_id = lm.recipe_user_id "
                "WHERE lm.recipe_user_id = ?",
                (recipe_user_id,),
            ).fetchone()
            if row is None:
                return "UNKNOWN_USER"
            recipe_id, tenant_id, old_key = row
            if email is not None:
                new_email, new_key = email
                taken = conn.execute(
                    "SELECT 1 FROM login_methods WHERE recipe_id = ? AND tenant_id = ? "
                    "AND email_key = ? AND recipe_user_id <> ?",
                    (recipe_id, tenant_id, new_key, recipe_user_id),
                ).fetchone()
                if taken:
                    return "EMAIL_EXISTS"
                conn.execute(
                    "UPDATE login_methods SET email = ?, email_key = ? WHERE recipe_user_id = ?",
                    (new_email, new_key, recipe_user_id),
                )
                if new_key != old_key:
                    conn.execute(
                        "DELETE FROM user_tokens WHERE user_id = ? AND email_key = ?",
                        (recipe_user_id, old_key),
                    )
            if password_hash is not None:
                conn.execute(
                    "UPDATE password_credentials SET password_hash = ? WHERE recipe_user_id = ?",
                    (password_hash, recipe_user_id),
                )
                if drop_tokens is not None:
                    conn.execute(
                        "DELETE FROM user_tokens WHERE user_id = ? AND purpose = ?",
                        (recipe_user_id, drop_tokens),
                    )
            return "OK"

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
        with self._write() as conn:
            row = conn.execute(
                "SELECT user_id, email_key FROM user_tokens WHERE token_hash = ? AND purpose = ? "
                "AND expires_at_ms > ?",
                (token_hash, purpose, now_ms),
            ).fetchone()
            if row is None:
                return None
            user_id, email_key = row
            cursor = conn.execute(
                "UPDATE password_credentials SET password_hash = ? WHERE recipe_user_id = ? "
                "AND EXISTS (SELECT 1 FROM login_methods lm WHERE lm.recipe_user_id = ? "
                "AND lm.email_key = ?)",
                (new_hash, user_id, user_id, email_key),
            )
            if cursor.rowcount != 1:
                return None  # the login's email changed since: the token is stale (no writes)
            conn.execute(
                "DELETE FROM user_tokens WHERE user_id = ? AND purpose = ?", (user_id, purpose)
            )
            revoked: list[str] = []
            if revoke_sessions:
                revoked = [
                    r[0]
                    for r in conn.execute(
                        "DELETE FROM sessions WHERE user_id = ? OR recipe_user_id = ? "
                        "RETURNING handle",
                        (user_id, user_id),
                    )
                ]
                conn.execute(
                    "DELETE FROM passwordless_devices WHERE user_id = ? "
                    "AND session_handle IS NOT NULL",
                    (user_id,),
                )
            if mark_email_verified:
                conn.execute(
                    "INSERT INTO verified_emails (recipe_user_id, email_key) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (user_id, email_key),
                )
            if clear_counter is not None:
                conn.execute(
                    "DELETE FROM rate_counters WHERE name = ? AND counter_key = ?", clear_counter
                )
            return PasswordReset(str(user_id), str(email_key), sorted(revoked))

    # -- single-use tokens ----------------------------------------------------------------------

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
        with self._write() as conn:
            conn.execute(
                "DELETE FROM user_tokens WHERE user_id = ? AND expires_at_ms <= ?",
                (user_id, now_ms),
            )
            conn.execute(
                "INSERT INTO user_tokens (token_hash, purpose, user_id, email_key, "
                "expires_at_ms) VALUES (?,?,?,?,?)",
                (token_hash, purpose, user_id, email_key, expires_at_ms),
            )

    async def find_token(self, token_hash: str, *, purpose: str, now_ms: int) -> TokenRecord | None:
        row = (
            self._connection()
            .execute(
                "SELECT purpose, user_id, email_key, expires_at_ms FROM user_tokens "
                "WHERE token_hash = ? AND purpose = ? AND expires_at_ms > ?",
                (token_hash, purpose, now_ms),
            )
            .fetchone()
        )
        return TokenRecord(*row) if row else None

    async def consume_token(
        self, token_hash: str, *, purpose: str, now_ms: int
    ) -> TokenRecord | None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT purpose, user_id, email_key, expires_at_ms FROM user_tokens "
                "WHERE token_hash = ? AND purpose = ?",
                (token_hash, purpose),
            ).fetchone()
            if row is None:
                return None
            record = TokenRecord(*row)
            if record.expires_at_ms <= now_ms:
                conn.execute("DELETE FROM user_tokens WHERE token_hash = ?", (token_hash,))
                return None
            conn.execute(
                "DELETE FROM user_tokens WHERE user_id = ? AND purpose = ? AND email_key = ?",
                (record.user_id, purpose, record.email_key),
            )
            return record

    async def delete_tokens(self, user_id: str, *, purpose: str | None = None) -> int:
        with self._write() as conn:
            if purpose is None:
                cursor = conn.execute("DELETE FROM user_tokens WHERE user_id = ?", (user_id,))
            else:
                cursor = conn.execute(
                    "DELETE FROM user_tokens WHERE user_id = ? AND purpose = ?", (user_id, purpose)
                )
            return int(cursor.rowcount)

    # -- throttling counters --------------------------------------------------------------------

    async def take_counter(
        self,
        name: str,
        key: str,
        *,
        now_ms: int,
        window_ms: int,
        max_hits: int,
        max_consecutive: int | None,
    ) -> tuple[bool, CounterState]:
        stale = now_ms - window_ms  # a window that started at or before this is over
        cap = NO_CONSECUTIVE_LIMIT if max_consecutive is None else max_consecutive
        with self._write() as conn:
            conn.execute(
                "INSERT INTO rate_counters (name, counter_key, window_start_ms, hits, consecutive) "
                "VALUES (?, ?, ?, 0, 0) ON CONFLICT (name, counter_key) DO NOTHING",
                (name, key, now_ms),
            )
            # One conditional UPDATE: the check and the increment cannot be separated.
            row = conn.execute(
                "UPDATE rate_counters SET "
                "hits = CASE WHEN window_start_ms <= ? THEN 1 ELSE hits + 1 END, "
                "window_start_ms = CASE WHEN window_start_ms <= ? THEN ? ELSE window_start_ms END, "
                "consecutive = consecutive + 1 "
                "WHERE name = ? AND counter_key = ? AND consecutive < ? "
                "AND (window_start_ms <= ? OR hits < ?) "
                "RETURNING hits, consecutive, window_start_ms",
                (stale, stale, now_ms, name, key, cap, stale, max_hits),
            ).fetchone()
            if row is not None:
                return True, CounterState(*row)
            row = conn.execute(
                "SELECT hits, consecutive, window_start_ms FROM rate_counters "
                "WHERE name = ? AND counter_key = ?",
                (name, key),
            ).fetchone()
            return False, CounterState(*row)

    async def get_counter(self, name: str, key: str) -> CounterState | None:
        row = (
            self._connection()
            .execute(
                "SELECT hits, consecutive, window_start_ms FROM rate_counters "
                "WHERE name = ? AND counter_key = ?",
                (name, key),
            )
            .fetchone()
        )
        return CounterState(*row) if row else None

    async def refund_counter(self, name: str, key: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE rate_counters SET "
                "hits = CASE WHEN hits > 0 THEN hits - 1 ELSE 0 END, "
                "consecutive = CASE WHEN consecutive > 0 THEN consecutive - 1 ELSE 0 END "
                "WHERE name = ? AND counter_key = ?",
                (name, key),
            )

    async def clear_counter(self, name: str, key: str) -> None:
        with self._write() as conn:
            conn.execute(
                "DELETE FROM rate_counters WHERE name = ? AND counter_key = ?", (name, key)
            )
