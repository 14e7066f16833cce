"""The seam between the store's SQL, written once, and the two databases that run it.

Every store method is one synchronous *unit of work*: a function of a :class:`Tx` that runs
inside one transaction (or one autocommit statement for simple reads). The store hands it to
:meth:`Database.run`, under an event loop on a thread of the store's own executor, and inline
when driven by :func:`bastion.bridge.run_sync` (:func:`store_method`). The SQL is the same for
SQLite and PostgreSQL; what differs between them lives in a :class:`Dialect` and in each
:class:`Database`:

- placeholders (``?`` here, ``%s`` for psycopg), translated once per statement text;
- how a writing transaction begins (SQLite ``BEGIN IMMEDIATE`` takes the database's single write
  lock up front, so writers are serialised; PostgreSQL ``BEGIN`` runs at READ COMMITTED and
  needs the row locks that :meth:`Tx.one` ``for_update`` and :meth:`Tx.lock` take);
- which driver errors mean "unavailable, answer 503", and which are retried (PostgreSQL
  serialization failures and deadlocks; a connection found dead before anything was committed).
"""

from __future__ import annotations

import contextlib
import enum
import functools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from bastion.bridge import run_blocking
from bastion.errors import StoreClosedError

__all__ = [
    "Database",
    "Dialect",
    "Kind",
    "Row",
    "SQLStoreBase",
    "Tx",
    "query",
    "snapshot",
    "transaction",
]

Row = tuple[Any, ...]
P = ParamSpec("P")
R = TypeVar("R")


class Cursor(Protocol):
    """What both ``sqlite3`` and psycopg cursors offer."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any: ...


class Connection(Protocol):
    """What both ``sqlite3`` and psycopg connections offer."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def cursor(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the same SQL needs to run on one database."""

    name: str
    begin_write: str
    """Starts a transaction that writes."""
    begin_snapshot: str
    """Starts a read-only transaction whose statements all see one snapshot."""
    for_update: str
    """Appended to a SELECT whose rows the transaction will change."""
    lock_sql: str | None
    """Takes a transaction-scoped lock on one text key (None: writers are serialised anyway)."""
    percent_placeholders: bool
    """The driver wants ``%s`` instead of ``?`` (psycopg)."""

    def sql(self, text: str) -> str:
        return _percent_style(text) if self.percent_placeholders else text


@functools.lru_cache(maxsize=1024)
def _percent_style(text: str) -> str:
    # The store's SQL never has a literal '?' or '%'; escape '%' all the same.
    return text.replace("%", "%%").replace("?", "%s")


class Tx:
    """One connection inside one unit of work."""

    __slots__ = ("_conn", "dialect")

    def __init__(self, conn: Connection, dialect: Dialect) -> None:
        self._conn = conn
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        cursor: Cursor = self._conn.execute(self.dialect.sql(sql), params)
        return int(cursor.rowcount)

    def one(self, sql: str, params: Sequence[Any] = (), *, for_update: bool = False) -> Row | None:
        """The first row of a query (``for_update``: locked until the transaction ends)."""
        if for_update:
            sql += self.dialect.for_update
        row = self._conn.execute(self.dialect.sql(sql), params).fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in self._conn.execute(self.dialect.sql(sql), params).fetchall()]

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run a statement once per parameter row."""
        rows = list(rows)
        if rows:
            self._conn.cursor().executemany(self.dialect.sql(sql), rows)

    def lock(self, *key: str) -> None:
        """Serialise the units of work that lock the same key, until this transaction ends.

        For read-decide-write steps that have no single row to lock (a user's set of recovery
        codes). A no-op on SQLite, whose writers hold the database's write lock anyway.
        """
        if self.dialect.lock_sql is not None:
            self._conn.execute(self.dialect.sql(self.dialect.lock_sql), ("\x1f".join(key),))


class Kind(enum.Enum):
    """How a unit of work runs."""

    READ = "read"
    """Autocommit: one statement, or statements that need no common snapshot."""
    SNAPSHOT = "snapshot"
    """A read-only transaction: every statement sees the same committed state."""
    WRITE = "write"
    """A read-write transaction, committed at the end or rolled back on any exception."""


class Database(ABC):
    """A database the store's units of work run on: SQLite or PostgreSQL."""

    dialect: Dialect
    max_connections: int
    """Connections the store may use at once: its executor gets as many threads."""
    display_url: str
    """The database URL with any password masked, for messages."""
    cleanup_batch: int
    """Rows one cleanup transaction deletes (:meth:`MaintenanceStore.delete_expired`)."""

    @abstractmethod
    def run(self, kind: Kind, work: Callable[[Tx], R]) -> R:
        """Run ``work`` as one unit of ``kind`` in the calling thread and return its result.

        Raises :class:`~bastion.errors.StorageUnavailableError` when the database cannot do it
        now, and :class:`~bastion.errors.StoreClosedError` after :meth:`close`.
        """

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...


def transact(conn: Connection, dialect: Dialect, kind: Kind, work: Callable[[Tx], R]) -> R:
    """Run ``work`` on ``conn`` as ``kind``: begin, then commit, or roll back on any exception.

    A failing COMMIT is raised as :class:`CommitFailed`: its outcome is unknown, so the unit
    must not be retried.
    """
    tx = Tx(conn, dialect)
    if kind is Kind.READ:
        return work(tx)
    conn.execute(dialect.begin_write if kind is Kind.WRITE else dialect.begin_snapshot)
    try:
        result = work(tx)
    except BaseException:
        with contextlib.suppress(Exception):  # a dead connection: the server rolls back itself
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except Exception as exc:
        raise CommitFailed from exc
    return result


class CommitFailed(Exception):
    """COMMIT itself failed: the transaction may or may not have been applied."""


class SQLStoreBase:
    """Owns a :class:`Database` and the executor that keeps its I/O off the event loop."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._executor_lock = threading.Lock()
        self._thread_pool: ThreadPoolExecutor | None = None
        self._closed = False

    @property
    def database(self) -> Database:
        return self._db

    def _executor(self) -> ThreadPoolExecutor:
        """The store's threads, created on the first call from an event loop."""
        with self._executor_lock:
            if self._closed:
                raise StoreClosedError("the store is closed")
            if self._thread_pool is None:
                self._thread_pool = ThreadPoolExecutor(
                    max_workers=self._db.max_connections, thread_name_prefix="bastion-db"
                )
            return self._thread_pool

    async def _run(self, kind: Kind, work: Callable[[Tx], R]) -> R:
        """Run one unit of work: on the store's executor under a loop, else inline."""
        return await run_blocking(
            functools.partial(self._db.run, kind, work), executor=self._executor
        )

    def schema_version(self) -> int:
        """The number of the last migration applied."""
        return self._db.schema_version()

    def close(self) -> None:
        """Close the connections; the store raises :class:`StoreClosedError` from then on."""
        with self._executor_lock:
            self._closed = True
            pool, self._thread_pool = self._thread_pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._db.close()


S = TypeVar("S", bound=SQLStoreBase)


def _method(
    fn: Callable[Concatenate[S, Tx, P], R], kind: Kind
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    @functools.wraps(fn)
    async def method(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._run(kind, lambda tx: fn(self, tx, *args, **kwargs))

    return method


def query(
    fn: Callable[Concatenate[S, Tx, P], R],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Make ``def m(self, tx, ...)`` the store coroutine ``m(...)``: an autocommit read."""
    return _method(fn, Kind.READ)


def snapshot(
    fn: Callable[Concatenate[S, Tx, P], R],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Like :func:`query`, in a read-only transaction whose statements share one snapshot."""
    return _method(fn, Kind.SNAPSHOT)


def transaction(
    fn: Callable[Concatenate[S, Tx, P], R],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Like :func:`query`, in one read-write transaction (retried where the backend says so)."""
    return _method(fn, Kind.WRITE)
