"""The embedded SQLite backend.

One persistent connection per thread (``sqlite3`` connections are not shareable), WAL journal
(readers never wait for the writer), a busy timeout, and ``BEGIN IMMEDIATE`` for every
transaction that writes: a writer takes the database's single write lock up front instead of
failing half-way on the upgrade from a read lock, so writing units of work are serialised and a
read-decide-write inside one needs no row locks. A lock still held when the busy timeout runs
out is :class:`~bastion.errors.StorageUnavailableError` (503), never a raw ``database is locked``.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bastion.errors import ConfigError, StorageUnavailableError, StoreClosedError
from bastion.storage.migrations import migrations
from bastion.storage.sql import CommitFailed, Database, Dialect, Kind, Tx, transact
from bastion.storage.store import SQLStore

__all__ = ["MAX_IDLE_CONNECTIONS", "SQLITE", "SQLiteDatabase", "SQLiteStore"]

R = TypeVar("R")

MAX_IDLE_CONNECTIONS = 8
"""Connections kept for threads to come; also the size of the store's executor."""

SQLITE = Dialect(
    name="sqlite",
    begin_write="BEGIN IMMEDIATE",
    begin_snapshot="BEGIN",  # deferred: the snapshot starts at the first read (WAL)
    for_update="",  # BEGIN IMMEDIATE already excludes every other writer
    lock_sql=None,
    percent_placeholders=False,
)

# Errors that say "not now" rather than "wrong SQL": busy or locked, I/O, full, unopenable.
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_UNAVAILABLE = {sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN}


class SQLiteDatabase(Database):
    """One SQLite file (or a private in-memory database) with its migrations applied."""

    dialect = SQLITE
    max_connections = MAX_IDLE_CONNECTIONS
    # One write lock for the whole file: 100 random deletes with their four index entries hold
    # it ~2 ms; 500 dirty enough pages to checkpoint at every commit (~50 ms).
    cleanup_batch = 100

    def __init__(self, path: str, *, busy_timeout_ms: int = 5000, create: bool = True) -> None:
        self._memory_anchor: sqlite3.Connection | None = None
        if path == ":memory:":
            # A private in-memory database shared by this process's threads.
            self._target = f"file:bastion-{uuid.uuid4().hex}?mode=memory&cache=shared"
            self._memory_anchor = sqlite3.connect(self._target, uri=True)
        else:
            if not create and not Path(path).is_file():
                raise ConfigError(
                    f"there is no database at sqlite:///{path}: run `bastion migrate` first"
                )
            self._target = path
        self.path = path
        self.display_url = f"sqlite:///{path}"
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._idle: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- connections ------------------------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This thread's connection: kept while the thread lives, then handed to the next one.

        Threads that live for one request (asgiref runs async views that way) would otherwise
        open a connection each and never close it.
        """
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not self._closed:
            return conn
        with self._all_lock:
            if self._closed:
                raise StoreClosedError(f"the store on {self.display_url} is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
        self._local.conn = conn
        weakref.finalize(threading.current_thread(), self._release, conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self._target,
                uri=self._memory_anchor is not None,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,  # a connection moves to another thread once its own ends
                timeout=self._busy_timeout_ms / 1000,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            if self._memory_anchor is None:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
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
        """How many connections this database holds (for tests and monitoring)."""
        with self._all_lock:
            return len(self._all)

    # -- units of work ----------------------------------------------------------------------------

    def run(self, kind: Kind, work: Callable[[Tx], R]) -> R:
        conn = self.connection()
        try:
            return transact(conn, SQLITE, kind, work)
        except CommitFailed as failed:
            cause = failed.__cause__
            if isinstance(cause, sqlite3.Error):
                raise (self._unavailable(cause) or cause) from cause
            raise
        except sqlite3.Error as exc:
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    def _unavailable(self, exc: sqlite3.Error) -> StorageUnavailableError | None:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in _BUSY:
            return StorageUnavailableError(
                f"the database {self.display_url} stayed locked for "
                f"{self._busy_timeout_ms} ms ({exc})",
                retry_after_s=1,
            )
        if code in _UNAVAILABLE:
            return StorageUnavailableError(
                f"the database {self.display_url} cannot be used: {exc}", retry_after_s=5
            )
        return None

    # -- schema -----------------------------------------------------------------------------------

    def _migrate(self) -> None:
        def apply(tx: Tx) -> None:
            version = int(tx.one("PRAGMA user_version")[0])  # type: ignore[index]
            for migration in migrations("sqlite"):
                if migration.number > version:
                    for statement in migration.statements():
                        tx.execute(statement)
                    tx.execute(f"PRAGMA user_version = {migration.number}")

        self.run(Kind.WRITE, apply)

    def schema_version(self) -> int:
        row = self.run(Kind.READ, lambda tx: tx.one("PRAGMA user_version"))
        return int(row[0]) if row else 0

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


class SQLiteStore(SQLStore):
    """The :class:`~bastion.storage.base.Store` on one SQLite file."""

    def __init__(self, path: str, *, busy_timeout_ms: int = 5000, create: bool = True) -> None:
        super().__init__(SQLiteDatabase(path, busy_timeout_ms=busy_timeout_ms, create=create))
        self.path = path
