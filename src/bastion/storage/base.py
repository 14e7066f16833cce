"""The storage contract: one protocol per aggregate, and :class:`Store`, all of them together.

Every method is a coroutine. The one implementation (:class:`~bastion.storage.store.SQLStore`)
runs each as a synchronous unit of work: on a thread of its own under an event loop, so the loop
never waits for the database, and inline when driven by :func:`bastion.bridge.run_sync`
(Flask, Django under WSGI, ``syncio``, ``init``, the command line), where no loop exists.

Multi-step writes are single calls here, each one transaction in the backend; the decisions they
need are pure functions from :mod:`bastion.core`, so every backend makes them the same way. Each
method's docstring says what it guarantees to concurrent callers, on any number of processes.
A database that cannot serve a call raises
:class:`~bastion.errors.StorageUnavailableError` (answered 503).
"""

from __future__ import annotations

from typing import Protocol

from bastion.storage.counters import CounterState, CounterStore
from bastion.storage.credentials import (
    CredentialStore,
    PasswordCredential,
    PasswordReset,
    TokenRecord,
    TokenStore,
)
from bastion.storage.keys import KeyStore
from bastion.storage.maintenance import MaintenanceStore
from bastion.storage.mfa import (
    MFAStore,
    RecoveryCodeRecord,
    RecoveryCodeStore,
    TOTPDeviceRecord,
    TOTPStore,
)
from bastion.storage.passwordless import (
    PasswordlessConsumeOutcome,
    PasswordlessDeviceRecord,
    PasswordlessStore,
)
from bastion.storage.sessions import SessionRecord, SessionStore
from bastion.storage.users import LoginMethodRecord, UserRecord, UserStore

__all__ = [
    "CounterState",
    "CounterStore",
    "CredentialStore",
    "KeyStore",
    "LoginMethodRecord",
    "MFAStore",
    "MaintenanceStore",
    "PasswordCredential",
    "PasswordReset",
    "PasswordlessConsumeOutcome",
    "PasswordlessDeviceRecord",
    "PasswordlessStore",
    "RecoveryCodeRecord",
    "RecoveryCodeStore",
    "SessionRecord",
    "SessionStore",
    "Store",
    "TOTPDeviceRecord",
    "TOTPStore",
    "TokenRecord",
    "TokenStore",
    "UserRecord",
    "UserStore",
]


class Store(
    SessionStore,
    KeyStore,
    UserStore,
    CredentialStore,
    TokenStore,
    CounterStore,
    TOTPStore,
    MFAStore,
    RecoveryCodeStore,
    PasswordlessStore,
    MaintenanceStore,
    Protocol,
):
    """Everything bastion keeps."""

    def schema_version(self) -> int:
        """The number of the last schema migration applied."""
        ...

    def close(self) -> None:
        """Release the connections; every later call raises
        :class:`~bastion.errors.StoreClosedError`."""
        ...
