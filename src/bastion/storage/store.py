"""The one SQL implementation of :class:`~bastion.storage.base.Store`, for every database.

Each aggregate keeps its protocol and its SQL in its own module; this class only puts them
together over a :class:`~bastion.storage.sql.Database`. A new aggregate (a recipe's own tables)
adds a module with a protocol and a ``…Queries`` class, a migration per backend, and one base
class here and one protocol in ``base.Store``.
"""

from __future__ import annotations

from bastion.storage.counters import CounterQueries
from bastion.storage.credentials import CredentialQueries, TokenQueries
from bastion.storage.keys import KeyQueries
from bastion.storage.maintenance import MaintenanceQueries
from bastion.storage.mfa import MFAQueries
from bastion.storage.passwordless import PasswordlessQueries
from bastion.storage.sessions import SessionQueries
from bastion.storage.users import UserQueries

__all__ = ["SQLStore"]


class SQLStore(
    SessionQueries,
    KeyQueries,
    UserQueries,
    CredentialQueries,
    TokenQueries,
    CounterQueries,
    MFAQueries,
    PasswordlessQueries,
    MaintenanceQueries,
):
    """Everything bastion keeps, on SQLite or PostgreSQL (the ``Database`` decides which)."""
