"""The embedded SQLite backend.

One persistent connection per thread (``sqlite3`` connections are not shareable), WAL journal,
a 5 s busy timeout, and ``BEGIN IMMEDIATE`` for every transaction that writes, so a writer waits
for the lock up front instead of failing half-way (SQLITE_BUSY on upgrade from a read).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from typing import Any

from bastion.core.keys import SigningKey
from bastion.core.payload import merge_payload
from bastion.storage.base import SessionRecord
from bastion.storage.sqlite_mfa import SQLiteMFAMixin
from bastion.storage.sqlite_passwordless import SQLitePasswordlessMixin
from bastion.storage.sqlite_users import SQLiteUserStoreMixin

__all__ = ["SQLiteStore"]

MAX_IDLE_CONNECTIONS = 8
# Tables whose rows carry an expires_at_ms after which nothing reads them.
_EXPIRING_TABLES = ("sessions", "user_tokens", "passwordless_devices")

_SESSION_COLUMNS = (
    "handle, user_id, recipe_user_id, tenant_id, access_payload, session_data, current_hash2, "
    "prev_hash2, rotated_at_ms, created_at_ms, expires_at_ms"
)


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("bastion.storage.migrations").joinpath("sqlite")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text("utf-8")))
    return sorted(found)


class SQLiteStore(SQLiteUserStoreMixin, SQLiteMFAMixin, SQLitePasswordlessMixin):
    """A :class:`~bastion.storage.base.Store` on one SQLite file."""

    def __init__(self, path: str, *, busy_timeout_ms: int = 5000) -> None:
        self._memory_anchor: sqlite3.Connection | None = None
        if path == ":memory:":
            # A private in-memory database shared by this process's threads.
            self._target = f"file:bastion-{uuid.uuid4().hex}?mode=memory&cache=shared"
            self._memory_anchor = sqlite3.connect(self._target, uri=True)
        else:
            self._target = path
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._idle: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._migrate()

    # -- connections and transactions ---------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection: kept while the thread lives, then handed to the next one.

        Threads that live for one request (asgiref runs async views that way) would otherwise
        open a connection each and never close it.
        """
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._all_lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._open()
            self._local.conn = conn
            weakref.finalize(threading.current_thread(), self._release, conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._target,
            uri=self._memory_anchor is not None,
            isolation_level=None,
            check_same_thread=False,  # a connection moves to another thread once its own ends
            timeout=self._busy_timeout_ms / 1000,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        if self._memory_anchor is None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _release(self, conn: sqlite3.Connection) -> None:
        """The thread that owned ``conn`` is gone: keep it for another thread, or close it."""
        with self._all_lock:
            if self._closed or conn not in self._all:
                return
            if len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
            self._all.remove(conn)
        conn.close()

    def open_connections(self) -> int:
        """How many connections this store holds (for tests and monitoring)."""
        with self._all_lock:
            return len(self._all)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _migrate(self) -> None:
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in _migrations():
                if number > version:
                    for statement in script.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number}")

    def schema_version(self) -> int:
        return int(self._connection().execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._all_lock:
            self._closed = True
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._idle.clear()
        self._local = threading.local()
        if self._memory_anchor is not None:
            self._memory_anchor.close()

    # -- sessions -----------------------------------------------------------------------------

    async def create_session(self, record: SessionRecord) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                (
                    record.handle,
                    record.user_id,
                    record.recipe_user_id,
                    record.tenant_id,
                    json.dumps(record.access_payload),
                    json.dumps(record.session_data),
                    record.current_hash2,
                    record.prev_hash2,
                    record.rotated_at_ms,
                    record.created_at_ms,
                    record.expires_at_ms,
                ),
            )

    async def get_session(self, handle: str) -> SessionRecord | None:
        row = (
            self._connection()
            .execute(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE handle = ?", (handle,))  # noqa: S608
            .fetchone()
        )
        if row is None:
            return None
        return SessionRecord(
            handle=row[0],
            user_id=row[1],
            recipe_user_id=row[2],
            tenant_id=row[3],
            access_payload=json.loads(row[4]),
            session_data=json.loads(row[5]),
            current_hash2=row[6],
            prev_hash2=row[7],
            rotated_at_ms=row[8],
            created_at_ms=row[9],
            expires_at_ms=row[10],
        )

    async def swap_refresh_hash(
        self,
        handle: str,
        *,
        expected_current: str,
        new_current: str,
        new_prev: str | None,
        rotated_at_ms: int | None,
        expires_at_ms: int,
    ) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET current_hash2 = ?, prev_hash2 = ?, rotated_at_ms = ?, "
                "expires_at_ms = ? WHERE handle = ? AND current_hash2 = ?",
                (new_current, new_prev, rotated_at_ms, expires_at_ms, handle, expected_current),
            )
            return cursor.rowcount == 1

    async def merge_access_payload(
        self, handle: str, update: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT access_payload FROM sessions WHERE handle = ?", (handle,)
            ).fetchone()
            if row is None:
                return None
            merged = merge_payload(json.loads(row[0]), update)
            conn.execute(
                "UPDATE sessions SET access_payload = ? WHERE handle = ?",
                (json.dumps(merged), handle),
            )
            return merged

    async def update_session_data(self, handle: str, data: Mapping[str, Any]) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET session_data = ? WHERE handle = ?",
                (json.dumps(dict(data)), handle),
            )
            return cursor.rowcount == 1

    async def delete_sessions(self, handles: list[str]) -> list[str]:
        if not handles:
            return []
        marks = ",".join("?" * len(handles))
        with self._write() as conn:
            rows = conn.execute(
                f"DELETE FROM sessions WHERE handle IN ({marks}) RETURNING handle",  # noqa: S608
                handles,
            ).fetchall()
        return [r[0] for r in rows]

    async def list_session_handles(
        self, user_id: str, *, tenant_id: str | None, now_ms: int
    ) -> list[str]:
        sql = "SELECT handle FROM sessions WHERE user_id = ? AND expires_at_ms > ?"
        params: tuple[Any, ...] = (user_id, now_ms)
        if tenant_id is not None:
            sql += " AND tenant_id = ?"
            params += (tenant_id,)
        return [r[0] for r in self._connection().execute(sql + " ORDER BY created_at_ms", params)]

    # -- keys and secrets -----------------------------------------------------------------------

    async def list_signing_keys(self) -> list[SigningKey]:
        rows = self._connection().execute(
            "SELECT kid, private_pem, sign_from_ms, sign_until_ms, verify_until_ms "
            "FROM signing_keys ORDER BY sign_from_ms"
        )
        return [SigningKey(r[0], bytes(r[1]), r[2], r[3], r[4]) for r in rows]

    async def add_signing_key(self, key: SigningKey, *, slot: str, expired: list[str]) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO signing_keys (kid, slot, private_pem, sign_from_ms, sign_until_ms, "
                "verify_until_ms) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (
                    key.kid,
                    slot,
                    key.private_pem,
                    key.sign_from_ms,
                    key.sign_until_ms,
                    key.verify_until_ms,
                ),
            )
            conn.executemany("DELETE FROM signing_keys WHERE kid = ?", [(k,) for k in expired])

    async def delete_expired(self, now_ms: int) -> dict[str, int]:
        deleted: dict[str, int] = {}
        with self._write() as conn:
            for table in _EXPIRING_TABLES:
                cursor = conn.execute(
                    f"DELETE FROM {table} WHERE expires_at_ms <= ?",  # noqa: S608 - fixed names
                    (now_ms,),
                )
                deleted[table] = cursor.rowcount
        return deleted

    async def update_signing_key_material(self, kid: str, private_pem: bytes) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE signing_keys SET private_pem = ? WHERE kid = ?", (private_pem, kid)
            )

    async def get_or_create_secret(self, name: str, candidate: bytes) -> bytes:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (name, candidate),
            )
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return bytes(row[0])
