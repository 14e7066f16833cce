"""Storage behind small protocols, with SQLite as the embedded default.

Callers only see :class:`~bastion.storage.base.Store`; :func:`open_store` picks the backend from
a database URL.
"""

from __future__ import annotations

from bastion.errors import ConfigError
from bastion.storage.base import KeyStore, SessionRecord, SessionStore, Store

__all__ = ["KeyStore", "SessionRecord", "SessionStore", "Store", "open_store"]


def open_store(database_url: str) -> Store:
    """Open (creating and migrating if needed) the store named by ``database_url``."""
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ConfigError(f"database_url must look like sqlite:///path.db, got {database_url!r}")
    if scheme == "sqlite":
        from bastion.storage.sqlite import SQLiteStore

        if not rest.startswith("/"):
            raise ConfigError("a SQLite URL reads sqlite:///relative.db or sqlite:////abs/path.db")
        return SQLiteStore(rest[1:] or ":memory:")
    if scheme in {"postgres", "postgresql"}:
        raise ConfigError("the PostgreSQL backend is not available in this version of bastion")
    raise ConfigError(f"unsupported database scheme {scheme!r}")
