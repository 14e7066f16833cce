"""Passwordless login attempts ("devices") and the users they sign in: the protocol and its SQL.

Consuming a code locks its device row for the transaction, lets
:func:`bastion.core.passwordless.check_code` decide (purpose, comparison, expiry, attempts) and
writes the decision back before the lock is released. So however many requests race on any
number of processes, a device answers at most ``max_attempts`` code checks, and a code signs in
at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bastion.core.passwordless import StoredCode, check_code
from bastion.storage.sql import Row, SQLStoreBase, Tx, query, snapshot, transaction
from bastion.storage.users import UserRecord, load_users, users_with

__all__ = [
    "PasswordlessConsumeOutcome",
    "PasswordlessDeviceRecord",
    "PasswordlessQueries",
    "PasswordlessStore",
]

PASSWORDLESS = "passwordless"


@dataclass(frozen=True, slots=True)
class PasswordlessDeviceRecord:
    """A passwordless login attempt and its one live code; only keyed hashes are stored."""

    pre_auth_session_id: str
    """base64url(SHA-256(device id)); the device id itself is never stored."""
    tenant_id: str
    email: str | None
    email_key: str | None
    phone_number: str | None
    purpose: Literal["signinup", "factor", "setup"]
    """``signinup``: a first factor. ``factor``: a challenge for ``session_handle``, whose user
    has the contact. ``setup``: adds the contact to the user of ``session_handle``."""
    user_id: str | None
    session_handle: str | None
    code_id: str
    code_hash: str
    link_code_hash: str
    failed_attempts: int
    created_at_ms: int
    code_created_at_ms: int
    expires_at_ms: int


@dataclass(frozen=True, slots=True)
class PasswordlessConsumeOutcome:
    """What :meth:`PasswordlessStore.consume_passwordless_code` did."""

    status: Literal["OK", "INCORRECT_CODE", "EXPIRED_CODE", "RESTART", "CONTACT_TAKEN"]
    failed_attempts: int = 0
    """Failed attempts on the device, this one included (``INCORRECT_CODE``/``EXPIRED_CODE``)."""
    device: PasswordlessDeviceRecord | None = None
    user_id: str | None = None
    """The user signed in (``signinup``) or holding the session (``factor``/``setup``)."""
    created_login_method: bool = False


class PasswordlessStore(Protocol):
    """Passwordless devices (login attempts) and the users they sign in."""

    async def add_passwordless_device(
        self, device: PasswordlessDeviceRecord, *, purge_expired_before_ms: int
    ) -> None:
        """Store a new device, dropping devices whose code expired before the given time."""
        ...

    async def get_passwordless_device(
        self, pre_auth_session_id: str
    ) -> PasswordlessDeviceRecord | None: ...

    async def list_passwordless_devices(
        self,
        *,
        tenant_id: str,
        email_key: str | None = None,
        phone_number: str | None = None,
    ) -> list[PasswordlessDeviceRecord]:
        """Devices for one email (by key) or one phone number, oldest first."""
        ...

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
        """Give the device a new code (the previous one stops working); failed attempts are
        kept. None if the device is gone. One UPDATE: a consume racing with it sees either
        the old code or the new one, never a mix."""
        ...

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
        """Check a user input code (``code_hash``) or a link code, in one transaction.

        The decision is :func:`bastion.core.passwordless.check_code`, taken with the device row
        locked, so concurrent checks of one device are serialised: at most ``max_attempts``
        failures are counted and a code signs in once. On success the device is deleted and,
        by purpose: the user with a passwordless login for the contact is found or created
        (``new_user_id``); the contact is checked to still belong to the session's user; or it
        is added to that user (CONTACT_TAKEN if another user has it). A proven email is marked
        verified.
        """
        ...

    async def delete_passwordless_devices(
        self,
        *,
        tenant_id: str | None = None,
        email_key: str | None = None,
        phone_number: str | None = None,
        user_id: str | None = None,
        code_id: str | None = None,
    ) -> int:
        """Delete the devices matching every given filter (at least one); returns how many."""
        ...

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
        """The user with a passwordless login for this email or phone number, created (with
        ``new_user_id``) if there is none; and whether it was created. Concurrent calls for
        one contact make one user (the unique index on the contact decides)."""
        ...

    async def list_users_by_phone_number(
        self, phone_number: str, *, tenant_id: str
    ) -> list[UserRecord]:
        """Users with a login method for ``phone_number``, oldest first (one snapshot)."""
        ...


_COLUMNS = (
    "pre_auth_session_id, tenant_id, email, email_key, phone_number, purpose, user_id, "
    "session_handle, code_id, code_hash, link_code_hash, failed_attempts, created_at_ms, "
    "code_created_at_ms, expires_at_ms"
)
_SELECT = f"SELECT {_COLUMNS} FROM passwordless_devices "  # noqa: S608


def _device(row: Row) -> PasswordlessDeviceRecord:
    return PasswordlessDeviceRecord(*row)


def _contact(device: PasswordlessDeviceRecord) -> tuple[str, str]:
    """The ``login_methods`` column and value that match the device's contact."""
    if device.email_key is not None:
        return "email_key", device.email_key
    return "phone_number", str(device.phone_number)


def _insert_login(
    tx: Tx, device: PasswordlessDeviceRecord, *, recipe_user_id: str, user_id: str, now_ms: int
) -> None:
    tx.execute(
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
    tx: Tx, device: PasswordlessDeviceRecord, new_user_id: str, now_ms: int
) -> tuple[str, bool]:
    column, value = _contact(device)
    row = tx.one(
        f"SELECT user_id FROM login_methods WHERE recipe_id = ? AND tenant_id = ? AND {column} = ?",  # noqa: S608
        (PASSWORDLESS, device.tenant_id, value),
    )
    if row is not None:
        return str(row[0]), False
    # A concurrent creation this check cannot see yet hits the unique index; run again, the
    # unit finds that user (sql.Database.run).
    tx.execute("INSERT INTO users (id, time_joined_ms) VALUES (?, ?)", (new_user_id, now_ms))
    _insert_login(tx, device, recipe_user_id=new_user_id, user_id=new_user_id, now_ms=now_ms)
    return new_user_id, True


def _complete(
    tx: Tx, device: PasswordlessDeviceRecord, new_user_id: str, now_ms: int
) -> PasswordlessConsumeOutcome:
    """The successful end of a consume, inside its transaction."""
    column, value = _contact(device)
    created = False
    if device.purpose == "signinup":
        user_id, created = _get_or_create(tx, device, new_user_id, now_ms)
    else:
        user_id = str(device.user_id)
        if tx.one("SELECT 1 FROM users WHERE id = ?", (user_id,)) is None:
            return PasswordlessConsumeOutcome("RESTART", device=device)
        has_it = tx.one(
            f"SELECT 1 FROM login_methods WHERE user_id = ? AND {column} = ?",  # noqa: S608
            (user_id, value),
        )
        if device.purpose == "factor" and has_it is None:
            return PasswordlessConsumeOutcome("RESTART", device=device)  # contact removed
        if device.purpose == "setup" and has_it is None:
            taken = tx.one(
                f"SELECT 1 FROM login_methods WHERE tenant_id = ? AND {column} = ?",  # noqa: S608
                (device.tenant_id, value),
            )
            if taken is not None:
                return PasswordlessConsumeOutcome("CONTACT_TAKEN", device=device)
            _insert_login(tx, device, recipe_user_id=new_user_id, user_id=user_id, now_ms=now_ms)
            created = True
    if device.email_key is not None:
        # The code reached this mailbox: the address is proven for every login that has it.
        tx.execute(
            "INSERT INTO verified_emails (recipe_user_id, email_key) SELECT recipe_user_id, "
            "email_key FROM login_methods WHERE user_id = ? AND email_key = ? "
            "ON CONFLICT DO NOTHING",
            (user_id, device.email_key),
        )
    return PasswordlessConsumeOutcome(
        "OK", device=device, user_id=user_id, created_login_method=created
    )


class PasswordlessQueries(SQLStoreBase):
    """:class:`PasswordlessStore` in SQL."""

    @transaction
    def add_passwordless_device(
        self, tx: Tx, device: PasswordlessDeviceRecord, *, purge_expired_before_ms: int
    ) -> None:
        tx.execute(
            "DELETE FROM passwordless_devices WHERE expires_at_ms < ?", (purge_expired_before_ms,)
        )
        tx.execute(
            f"INSERT INTO passwordless_devices ({_COLUMNS}) "  # noqa: S608
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

    @query
    def get_passwordless_device(
        self, tx: Tx, pre_auth_session_id: str
    ) -> PasswordlessDeviceRecord | None:
        row = tx.one(_SELECT + "WHERE pre_auth_session_id = ?", (pre_auth_session_id,))
        return None if row is None else _device(row)

    async def list_passwordless_devices(
        self,
        *,
        tenant_id: str,
        email_key: str | None = None,
        phone_number: str | None = None,
    ) -> list[PasswordlessDeviceRecord]:
        if (email_key is None) == (phone_number is None):
            raise ValueError("give exactly one of email_key and phone_number")
        if email_key is not None:
            return await self._devices_with(tenant_id, "email_key", email_key)
        return await self._devices_with(tenant_id, "phone_number", str(phone_number))

    @query
    def _devices_with(
        self, tx: Tx, tenant_id: str, column: str, value: str
    ) -> list[PasswordlessDeviceRecord]:
        rows = tx.all(
            _SELECT + f"WHERE tenant_id = ? AND {column} = ? "
            "ORDER BY created_at_ms, pre_auth_session_id",
            (tenant_id, value),
        )
        return [_device(r) for r in rows]

    @transaction
    def replace_passwordless_code(
        self,
        tx: Tx,
        pre_auth_session_id: str,
        *,
        code_id: str,
        code_hash: str,
        link_code_hash: str,
        now_ms: int,
        expires_at_ms: int,
    ) -> PasswordlessDeviceRecord | None:
        row = tx.one(
            "UPDATE passwordless_devices SET code_id = ?, code_hash = ?, link_code_hash = ?, "  # noqa: S608
            "code_created_at_ms = ?, expires_at_ms = ? WHERE pre_auth_session_id = ? "
            f"RETURNING {_COLUMNS}",
            (code_id, code_hash, link_code_hash, now_ms, expires_at_ms, pre_auth_session_id),
        )
        return None if row is None else _device(row)

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
        return await self._delete_devices(given)

    @transaction
    def _delete_devices(self, tx: Tx, given: dict[str, str]) -> int:
        where = " AND ".join(f"{column} = ?" for column in given)
        return tx.execute(f"DELETE FROM passwordless_devices WHERE {where}", list(given.values()))  # noqa: S608

    @transaction
    def consume_passwordless_code(
        self,
        tx: Tx,
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
        row = tx.one(
            _SELECT + "WHERE pre_auth_session_id = ?", (pre_auth_session_id,), for_update=True
        )
        if row is None:
            return PasswordlessConsumeOutcome("RESTART")
        device = _device(row)
        stored = StoredCode(
            device.session_handle,
            device.code_hash,
            device.link_code_hash,
            device.failed_attempts,
            device.expires_at_ms,
        )
        check = check_code(
            stored,
            code_hash=code_hash,
            link_code_hash=link_code_hash,
            session_handle=session_handle,
            max_attempts=max_attempts,
            now_ms=now_ms,
        )
        if check.delete_device:
            tx.execute(
                "DELETE FROM passwordless_devices WHERE pre_auth_session_id = ?",
                (pre_auth_session_id,),
            )
        elif check.store_attempts:
            tx.execute(
                "UPDATE passwordless_devices SET failed_attempts = ? WHERE pre_auth_session_id = ?",
                (check.failed_attempts, pre_auth_session_id),
            )
        if check.status == "OK":
            return _complete(tx, device, new_user_id, now_ms)
        if check.status == "RESTART" and not check.delete_device:
            return PasswordlessConsumeOutcome("RESTART")
        return PasswordlessConsumeOutcome(check.status, check.failed_attempts, device)

    @transaction
    def get_or_create_passwordless_user(
        self,
        tx: Tx,
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
            "", tenant_id, email, email_key, phone_number, "signinup", None, None,
            "", "", "", 0, now_ms, now_ms, now_ms,
        )  # fmt: skip
        user_id, created = _get_or_create(tx, contact, new_user_id, now_ms)
        return load_users(tx, [user_id])[0], created

    @snapshot
    def list_users_by_phone_number(
        self, tx: Tx, phone_number: str, *, tenant_id: str
    ) -> list[UserRecord]:
        return users_with(tx, "phone_number", phone_number, tenant_id)
