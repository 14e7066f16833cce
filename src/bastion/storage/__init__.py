"""Storage behind small protocols: SQLite embedded by default, PostgreSQL for many processes.

Callers only see :class:`~bastion.storage.base.Store`; :func:`open_store` picks the backend from
a database URL.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from bastion.errors import ConfigError
from bastion.storage.base import KeyStore, SessionRecord, SessionStore, Store

__all__ = ["KeyStore", "SessionRecord", "SessionStore", "Store", "open_store"]


def open_store(database_url: str, *, create: bool = True) -> Store:
    """Open the store named by ``database_url`` and apply pending migrations.

    ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` (``?busy_timeout=5`` seconds) or
    ``postgresql://user:password@host/db`` (see :mod:`bastion.storage.postgres` for the pool
    settings). With ``create=False`` a database that does not exist yet (a missing SQLite file,
    a PostgreSQL database without bastion's tables) is refused instead of created.

    Raises:
        ConfigError: a malformed URL, or a missing database with ``create=False``.
        StorageUnavailableError: the database cannot be reached (the message masks the
            password).
    """
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ConfigError("database_url must look like sqlite:///path.db or postgresql://...")
    if scheme == "sqlite":
        from bastion.storage.sqlite import SQLiteStore

        path, _, query = rest.partition("?")
        if not path.startswith("/"):
            raise ConfigError("a SQLite URL reads sqlite:///relative.db or sqlite:////abs/path.db")
        options = dict(parse_qsl(query))
        unknown = set(options) - {"busy_timeout"}
        if unknown:
            raise ConfigError(f"unknown SQLite URL parameters: {', '.join(sorted(unknown))}")
        try:
            busy_timeout_ms = int(float(options.get("busy_timeout", 5)) * 1000)
        except ValueError:
            raise ConfigError("busy_timeout must be a number of seconds") from None
        return SQLiteStore(path[1:] or ":memory:", busy_timeout_ms=busy_timeout_ms, create=create)
    if scheme in {"postgres", "postgresql"}:
        from bastion.storage.postgres import PostgresStore

        return PostgresStore(database_url, create=create)
    raise ConfigError(f"unsupported database scheme {scheme!r}")
