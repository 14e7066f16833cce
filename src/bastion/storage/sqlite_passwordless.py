"""SQLite storage for passwordless sign-in, mixed into :class:`~bastion.storage.sqlite.SQLiteStore`.

Each method that writes is one ``BEGIN IMMEDIATE`` transaction. Guessing is settled in the
database: :meth:`consume_passwordless_code` counts a user input code as a failed attempt
(``UPDATE … SET failed_attempts = failed_attempts + 1 WHERE failed_attempts < :max``) before
comparing it, in the same transaction that deletes the device on success or on the last
allowed failure. So however many requests race, a device answers at most ``max_attempts``
code checks, and a code signs in at most once.
"""

from __future__ import annotations

import hmac
import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from bastion.storage.base import PasswordlessConsumeOutcome, PasswordlessDeviceRecord, UserRecord

__all__ = ["SQLitePasswordlessMixin"]

PASSWORDLESS = "passwordless"
_DEVICE_COLUMNS = (
    "pre_auth_session_id, tenant_id, email, email_key, phone_number, purpose, user_id, "
    "session_handle, code_id, code_hash, link_code_hash, failed_attempts, created_at_ms, "
    "code_created_at_ms, expires_at_ms"
)
_SELECT_DEVICE = f"SELECT {_DEVICE_COLUMNS} FROM passwordless_devices "  # noqa: S608


def _device(row: tuple[Any, ...]) -> PasswordlessDeviceRecord:
    return PasswordlessDeviceRecord(*row)


def _contact_clause(device: PasswordlessDeviceRecord) -> tuple[str, str]:
    """The SQL condition (on ``login_methods``) and parameter that match the device's contact."""
    if device.email_key is not None:
        return "email_key = ?", device.email_key
    return "phone_number = ?", str(device.phone_number)


class SQLitePasswordlessMixin:
    """``PasswordlessStore`` on SQLite."""

    if TYPE_CHECKING:

        def _connection(self) -> sqlite3.Connection: ...

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _load_users(
            self, conn: sqlite3.Connection, user_ids: list[str]
        ) -> list[UserRecord]: ...

    # -- devices ----------------------------------------------------------------------------------

    async def add_passwordless_device(
        self, device: PasswordlessDeviceRecord, *, purge_expired_before_ms: int
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "DELETE FROM passwordless_devices WHERE expires_at_ms < ?",
                (purge_expired_before_ms,),
            )
            conn.execute(
                f"INSERT INTO passwordless_devices ({_DEVICE_COLUMNS}) "  # noqa: S608
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    device.pre_auth_session_id,
                    device.tenant_id,
                    device.email,
                    device.email_key,
                    device.phone_number,
                    device.purpose,
                    device.user_id,
                    device.session_handle,
                    device.code_id,
                    device.code_hash,
                    device.link_code_hash,
                    device.failed_attempts,
                    device.created_at_ms,
                    device.code_created_at_ms,
                    device.expires_at_ms,
                ),
            )

    async def get_passwordless_device(
        self, pre_auth_session_id: str
    ) -> PasswordlessDeviceRecord | None:
        row = (
            self._connection()
            .execute(_SELECT_DEVICE + "WHERE pre_auth_session_id = ?", (pre_auth_session_id,))
            .fetchone()
        )
        return _device(row) if row else None

    async def list_passwordless_devices(
        self,
        *,
        tenant_id: str,
        email_key: str | None = None,
        phone_number: str | None = None,
    ) -> list[PasswordlessDeviceRecord]:
        if (email_key is None) == (phone_number is None):
            raise ValueError("give exactly one of email_key and phone_number")
        column, value = (
            ("email_key", email_key) if email_key is not None else ("phone_number", phone_number)
        )
        rows = self._connection().execute(
            _SELECT_DEVICE + f"WHERE tenant_id = ? AND {column} = ? "
            "ORDER BY created_at_ms, pre_auth_session_id",
            (tenant_id, value),
        )
        return [_device(r) for r in rows]

    async def replace_passwordless_code(
        self,
        pre_auth_session_id: str,
        *,
        code_id: str,
        code_hash: str,
        link_code_hash: str,
        now_ms: int,
        expires_at_ms: int,
    ) -> PasswordlessDeviceRecord | None:
        with self._write() as conn:
            row = conn.execute(
                "UPDATE passwordless_devices SET code_id = ?, code_hash = ?, link_code_hash = ?, "  # noqa: S608
                "code_created_at_ms = ?, expires_at_ms = ? WHERE pre_auth_session_id = ? "
                f"RETURNING {_DEVICE_COLUMNS}",
                (code_id, code_hash, link_code_hash, now_ms, expires_at_ms, pre_auth_session_id),
            ).fetchone()
        return _device(row) if row else None

    async def delete_passwordless_devices(
        self,
        *,
        tenant_id: str | None = None,
        email_key: str | None = None,
        phone_number: str | None = None,
        user_id: str | None = None,
        code_id: str | None = None,
    ) -> int:
        filters = {
            "tenant_id": tenant_id,
            "email_key": email_key,
            "phone_number": phone_number,
            "user_id": user_id,
            "code_id": code_id,
        }
        given = {k: v for k, v in filters.items() if v is not None}
        if not given:
            raise ValueError("delete_passwordless_devices needs at least one filter")
        where = " AND ".join(f"{column} = ?" for column in given)
        with self._write() as conn:
            cursor = conn.execute(
                f"DELETE FROM passwordless_devices WHERE {where}",  # noqa: S608
                list(given.values()),
            )
            return int(cursor.rowcount)

    # -- consuming a code --------------------------------------------------------------------------

    async def consume_passwordless_code(
        self,
        pre_auth_session_id: str,
        *,
        code_hash: str | None,
        link_code_hash: str | None,
        session_handle: str | None,
        max_attempts: int,
        now_ms: int,
        new_user_id: str,
    ) -> PasswordlessConsumeOutcome:
        if (code_hash is None) == (link_code_hash is None):
            raise ValueError("give exactly one of code_hash and link_code_hash")
        restart = PasswordlessConsumeOutcome("RESTART")
        with self._write() as conn:
            row = conn.execute(
                _SELECT_DEVICE + "WHERE pre_auth_session_id = ?", (pre_auth_session_id,)
            ).fetchone()
            if row is None:
                return restart
            device = _device(row)
            if device.session_handle != session_handle:
                return restart  # another purpose or another session: leave the device alone
            live = now_ms < device.expires_at_ms
            if link_code_hash is not None:
                if not (live and hmac.compare_digest(device.link_code_hash, link_code_hash)):
                    return restart
            else:
                # Count first, compare second: a racing guess cannot skip the count.
                counted = conn.execute(
                    "UPDATE passwordless_devices SET failed_attempts = failed_attempts + 1 "
                    "WHERE pre_auth_session_id = ? AND failed_attempts < ? "
                    "RETURNING failed_attempts",
                    (pre_auth_session_id, max_attempts),
                ).fetchone()
                if counted is None:
                    self._delete_device(conn, pre_auth_session_id)
                    return restart
                failures = int(counted[0])
                matches = hmac.compare_digest(device.code_hash, str(code_hash))
                if not (matches and live):
                    if failures >= max_attempts:
                        self._delete_device(conn, pre_auth_session_id)
                        return PasswordlessConsumeOutcome("RESTART", failures, device)
                    if matches:
                        return PasswordlessConsumeOutcome("EXPIRED_CODE", failures, device)
                    return PasswordlessConsumeOutcome("INCORRECT_CODE", failures, device)
            self._delete_device(conn, pre_auth_session_id)
            return self._complete(conn, device, new_user_id, now_ms)

    @staticmethod
    def _delete_device(conn: sqlite3.Connection, pre_auth_session_id: str) -> None:
        conn.execute(
            "DELETE FROM passwordless_devices WHERE pre_auth_session_id = ?",
            (pre_auth_session_id,),
        )

    def _complete(
        self,
        conn: sqlite3.Connection,
        device: PasswordlessDeviceRecord,
        new_user_id: str,
        now_ms: int,
    ) -> PasswordlessConsumeOutcome:
        """The successful end of a consume, inside its transaction."""
        clause, value = _contact_clause(device)
        created = False
        if device.purpose == "signinup":
            user_id, created = self._get_or_create(conn, device, new_user_id, now_ms)
        else:
            user_id = str(device.user_id)
            if conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
                return PasswordlessConsumeOutcome("RESTART", device=device)
            has_it = conn.execute(
                f"SELECT 1 FROM login_methods WHERE user_id = ? AND {clause}",  # noqa: S608
                (user_id, value),
            ).fetchone()
            if device.purpose == "factor" and has_it is None:
                return PasswordlessConsumeOutcome("RESTART", device=device)  # contact removed
            if device.purpose == "setup" and has_it is None:
                taken = conn.execute(
                    f"SELECT 1 FROM login_methods WHERE tenant_id = ? AND {clause}",  # noqa: S608
                    (device.tenant_id, value),
                ).fetchone()
                if taken is not None:
                    return PasswordlessConsumeOutcome("CONTACT_TAKEN", device=device)
                self._insert_login(
                    conn, device, recipe_user_id=new_user_id, user_id=user_id, now_ms=now_ms
                )
                created = True
        if device.email_key is not None:
            # The code reached this mailbox: the address is proven for every login that has it.
            conn.execute(
                "INSERT INTO verified_emails (recipe_user_id, email_key) SELECT recipe_user_id, "
                "email_key FROM login_methods WHERE user_id = ? AND email_key = ? "
                "ON CONFLICT DO NOTHING",
                (user_id, device.email_key),
            )
        return PasswordlessConsumeOutcome(
            "OK", device=device, user_id=user_id, created_login_method=created
        )

    # -- users ------------------------------------------------------------------------------------

    @staticmethod
    def _insert_login(
        conn: sqlite3.Connection,
        device: PasswordlessDeviceRecord,
        *,
        recipe_user_id: str,
        user_id: str,
        now_ms: int,
    ) -> None:
        conn.execute(
            "INSERT INTO login_methods (recipe_user_id, user_id, recipe_id, tenant_id, email, "
            "email_key, phone_number, time_joined_ms) VALUES (?,?,?,?,?,?,?,?)",
            (
                recipe_user_id,
                user_id,
                PASSWORDLESS,
                device.tenant_id,
                device.email,
                device.email_key,
                device.phone_number,
                now_ms,
            ),
        )

    def _get_or_create(
        self,
        conn: sqlite3.Connection,
        device: PasswordlessDeviceRecord,
        new_user_id: str,
        now_ms: int,
    ) -> tuple[str, bool]:
        clause, value = _contact_clause(device)
        row = conn.execute(
            f"SELECT user_id FROM login_methods WHERE recipe_id = ? AND tenant_id = ? "  # noqa: S608
            f"AND {clause}",
            (PASSWORDLESS, device.tenant_id, value),
        ).fetchone()
        if row is not None:
            return str(row[0]), False
        conn.execute("INSERT INTO users (id, time_joined_ms) VALUES (?, ?)", (new_user_id, now_ms))
        self._insert_login(
            conn, device, recipe_user_id=new_user_id, user_id=new_user_id, now_ms=now_ms
        )
        return new_user_id, True

    async def get_or_create_passwordless_user(
        self,
        *,
        tenant_id: str,
        email: str | None,
        email_key: str | None,
        phone_number: str | None,
        new_user_id: str,
        now_ms: int,
    ) -> tuple[UserRecord, bool]:
        if (email_key is None) == (phone_number is None):
            raise ValueError("give exactly one of email and phone_number")
        contact = PasswordlessDeviceRecord(
            "",
            tenant_id,
            email,
            email_key,
            phone_number,
            "signinup",
            None,
            None,
            "",
            "",
            "",
            0,
            now_ms,
            now_ms,
            now_ms,
        )
        with self._write() as conn:
            user_id, created = self._get_or_create(conn, contact, new_user_id, now_ms)
            return self._load_users(conn, [user_id])[0], created

    async def list_users_by_phone_number(
        self, phone_number: str, *, tenant_id: str
    ) -> list[UserRecord]:
        conn = self._connection()
        rows = conn.execute(
            "SELECT DISTINCT lm.user_id, u.time_joined_ms FROM login_methods lm "
            "JOIN users u ON u.id = lm.user_id WHERE lm.phone_number = ? AND lm.tenant_id = ? "
            "ORDER BY u.time_joined_ms, lm.user_id",
            (phone_number, tenant_id),
        ).fetchall()
        return self._load_users(conn, [r[0] for r in rows])
