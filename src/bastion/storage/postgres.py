"""The PostgreSQL backend: psycopg 3 with a connection pool, for many processes on one database.

Selected by ``postgresql://user:password@host:5432/dbname?pool_max=10`` (or ``postgres://``).
bastion's own query parameters are taken out of the URL; every other one is handed to libpq
(``sslmode``, ``application_name``, ``options=-csearch_path=auth`` for a dedicated schema ...):

- ``pool_min`` (1) and ``pool_max`` (10): connections kept open and the most opened at once;
  the store's executor has ``pool_max`` threads.
- ``pool_timeout`` (5 s): how long a unit of work waits for a free connection before it fails
  as unavailable (503).
- libpq's ``connect_timeout`` defaults to 5 s here (libpq itself would wait forever).

Units of work run at READ COMMITTED. Conditional single-statement writes (compare-and-swap,
counters) are atomic by themselves; read-decide-write steps lock their row first
(``SELECT … FOR UPDATE``) or a key (``pg_advisory_xact_lock``). Serialization failures and
deadlocks (SQLSTATE 40001, 40P01) are retried, and so is a check-then-insert that hit a unique
index (23505) because a concurrent unit inserted first: run again, its check sees that row. A
unit whose connection turns out to be dead before anything was committed (the server restarted)
is run once more, after the pool has dropped its other dead connections. Schema migrations run
under a session advisory lock, so processes starting together apply each one exactly once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bastion.errors import ConfigError, MissingExtra, StorageUnavailableError, StoreClosedError
from bastion.storage.migrations import migrations
from bastion.storage.sql import CommitFailed, Database, Dialect, Kind, Tx, transact
from bastion.storage.store import SQLStore

try:
    import psycopg
    import psycopg.errors
    from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("psycopg", "postgres") from exc

__all__ = ["POSTGRES", "PostgresDatabase", "PostgresSettings", "PostgresStore", "mask_url"]

R = TypeVar("R")

POSTGRES = Dialect(
    name="postgresql",
    begin_write="BEGIN",  # READ COMMITTED: rows are locked where a decision needs it
    begin_snapshot="BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    for_update=" FOR UPDATE",
    lock_sql="SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
    percent_placeholders=True,
)

MIGRATION_LOCK = "SELECT pg_advisory_lock(hashtextextended('bastion:migrations', 0))"
MIGRATION_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('bastion:migrations', 0))"
MAX_SERIALIZATION_RETRIES = 5
_RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)
# A unit that checks, then inserts, can lose to a concurrent one it could not see at READ
# COMMITTED; run again, its check sees the winner's committed row and it answers accordingly.
_RERUN = (*_RETRYABLE, psycopg.errors.UniqueViolation)


def mask_url(url: str) -> str:
    """``url`` with its password (in the authority or a ``password=`` parameter) masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        if ":" in credentials:
            credentials = credentials.split(":", 1)[0] + ":***"
        netloc = f"{credentials}@{host}"
    query = [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="-=/*"), ""))


@dataclass(frozen=True, slots=True)
class PostgresSettings:
    """A PostgreSQL URL split into libpq's connection string and the pool's settings."""

    conninfo: str
    display_url: str
    pool_min: int = 1
    pool_max: int = 10
    pool_timeout_s: float = 5.0

    @classmethod
    def from_url(cls, url: str) -> PostgresSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise ConfigError(f"not a PostgreSQL URL: {mask_url(url)}")
        ours: dict[str, str] = {}
        libpq: list[tuple[str, str]] = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in _OPTIONS:
                ours[key] = value
            else:
                libpq.append((key, value))
        if not any(k == "connect_timeout" for k, _ in libpq):
            libpq.append(("connect_timeout", "5"))
        conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(libpq), ""))
        try:
            settings = cls(
                conninfo,
                mask_url(url),
                pool_min=int(ours.get("pool_min", 1)),
                pool_max=int(ours.get("pool_max", 10)),
                pool_timeout_s=float(ours.get("pool_timeout", 5.0)),
            )
        except ValueError as exc:
            raise ConfigError(f"bad pool setting in {mask_url(url)}: {exc}") from None
        if not 0 <= settings.pool_min <= settings.pool_max or settings.pool_max < 1:
            raise ConfigError("the pool needs 0 <= pool_min <= pool_max and pool_max >= 1")
        if settings.pool_timeout_s <= 0:
            raise ConfigError("pool_timeout must be a positive number of seconds")
        return settings


_OPTIONS = {"pool_min", "pool_max", "pool_timeout"}


class PostgresDatabase(Database):
    """A PostgreSQL database reached through a psycopg connection pool."""

    dialect = POSTGRES
    cleanup_batch = 1000  # row locks: a batch blocks no request, fewer commits cost less

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.settings = PostgresSettings.from_url(url)
        self.display_url = self.settings.display_url
        self.max_connections = self.settings.pool_max
        self._migrate(create=create)
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.settings.conninfo,
            min_size=self.settings.pool_min,
            max_size=self.settings.pool_max,
            timeout=self.settings.pool_timeout_s,
            kwargs={"autocommit": True},  # transactions are explicit (sql.transact)
            # Give up a failed background reconnect soon: the next request starts a fresh one,
            # so the pool is back within a second or two of the database.
            reconnect_timeout=max(10.0, 2 * self.settings.pool_timeout_s),
            name="bastion",
            open=False,
        )
        self._pool.open(wait=False)

    # -- units of work ----------------------------------------------------------------------------

    def run(self, kind: Kind, work: Callable[[Tx], R]) -> R:
        reconnected = False
        for attempt in range(1, MAX_SERIALIZATION_RETRIES + 1):
            conn: psycopg.Connection[Any] | None = None
            try:
                with self._pool.connection() as conn:
                    return transact(conn, POSTGRES, kind, work)
            except PoolClosed as exc:
                raise StoreClosedError(f"the store on {self.display_url} is closed") from exc
            except PoolTimeout as exc:
                raise StorageUnavailableError(
                    f"no connection to {self.display_url} became free within "
                    f"{self.settings.pool_timeout_s:g} s",
                    retry_after_s=1,
                ) from exc
            except CommitFailed as failed:
                raise self._unavailable(failed.__cause__) from failed.__cause__
            except _RERUN as exc:
                if attempt == MAX_SERIALIZATION_RETRIES:
                    if isinstance(exc, psycopg.errors.UniqueViolation):
                        raise
                    raise self._unavailable(exc) from exc
                time.sleep(random.uniform(0.001, 0.005) * attempt)  # noqa: S311 - jitter only
            except psycopg.OperationalError as exc:
                if conn is None or not conn.broken or reconnected:
                    raise self._unavailable(exc) from exc
                # A dead connection (the server restarted): nothing of this unit was committed.
                # Drop the pool's other dead connections, then try once more on a live one.
                reconnected = True
                self._pool.check()
        raise AssertionError("unreachable")  # pragma: no cover

    def _unavailable(self, exc: BaseException | None) -> StorageUnavailableError:
        reason = str(exc).strip().splitlines()[0] if exc is not None and str(exc) else "unknown"
        retryable = isinstance(exc, _RETRYABLE)
        return StorageUnavailableError(
            f"the database {self.display_url} failed: {reason}", retry_after_s=1 if retryable else 5
        )

    # -- schema -----------------------------------------------------------------------------------

    def _migrate(self, *, create: bool) -> None:
        """Apply pending migrations on a connection of its own, under a session advisory lock."""
        try:
            conn = psycopg.connect(self.settings.conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StorageUnavailableError(
                f"cannot connect to the database {self.display_url}: {_first_line(exc)}",
                retry_after_s=5,
            ) from None
        with conn:
            conn.execute(MIGRATION_LOCK)
            try:
                exists = conn.execute("SELECT to_regclass('bastion_migrations')").fetchone()
                if (exists is None or exists[0] is None) and not create:
                    raise ConfigError(
                        f"the database {self.display_url} has no bastion schema: "
                        "run `bastion migrate` first"
                    )
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS bastion_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                applied = {r[0] for r in conn.execute("SELECT version FROM bastion_migrations")}
                for migration in migrations("postgres"):
                    if migration.number in applied:
                        continue
                    with conn.transaction():
                        conn.execute(migration.script)
                        conn.execute(
                            "INSERT INTO bastion_migrations (version, name) VALUES (%s, %s)",
                            (migration.number, migration.name),
                        )
            finally:
                conn.execute(MIGRATION_UNLOCK)

    def schema_version(self) -> int:
        row = self.run(Kind.READ, lambda tx: tx.one("SELECT max(version) FROM bastion_migrations"))
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        self._pool.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PostgresStore(SQLStore):
    """The :class:`~bastion.storage.base.Store` on a PostgreSQL database."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        super().__init__(PostgresDatabase(url, create=create))
