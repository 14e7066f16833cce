"""What only the SQLite backend does: its file, WAL, one connection per thread, a busy lock."""

from __future__ import annotations

import gc
import sqlite3
import threading
from pathlib import Path

import pytest

from bastion.bridge import run_sync
from bastion.errors import ConfigError, StorageUnavailableError, StoreClosedError
from bastion.storage import open_store
from bastion.storage.migrations import migrations
from bastion.storage.sessions import SessionRecord
from bastion.storage.sql import Kind
from bastion.storage.sqlite import MAX_IDLE_CONNECTIONS, SQLiteStore


def record(handle: str = "h1", current: str = "c0") -> SessionRecord:
    return SessionRecord(handle, "u", "u", "public", {"a": 1}, {}, current, None, None, 1, 10**13)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(str(tmp_path / "s.db"))
    yield s
    s.close()


def test_schema_is_migrated_once_and_versioned(tmp_path: Path) -> None:
    path = str(tmp_path / "m.db")
    first = SQLiteStore(path)
    latest = len(migrations("sqlite"))
    assert first.schema_version() == latest
    run_sync(first.create_session(record()))
    first.close()
    again = SQLiteStore(path)  # re-opening applies nothing and keeps data
    assert again.schema_version() == latest
    assert run_sync(again.get_session("h1")) is not None
    again.close()


def test_an_old_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # a database made by the first four migrations
        for migration in migrations("sqlite")[:4]:
            for statement in migration.statements():
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 4")
        conn.execute(
            "INSERT INTO sessions VALUES "
            "('h', 'u', 'u', 'public', '{}', '{}', 'c', NULL, NULL, 1, 2)"
        )
    store = SQLiteStore(str(path))
    assert store.schema_version() == len(migrations("sqlite"))
    assert run_sync(store.get_session("h")) is not None
    store.close()
    with sqlite3.connect(path) as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"sessions_by_expiry", "user_tokens_by_expiry"} <= indexes


def test_wal_mode_and_one_connection_per_thread(store: SQLiteStore) -> None:
    db = store.database
    conn = db.connection()  # type: ignore[attr-defined]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.connection() is conn  # type: ignore[attr-defined]  # persistent, not one per call
    other: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: other.append(db.connection()))  # type: ignore[attr-defined]
    thread.start()
    thread.join()
    assert other[0] is not conn


def test_memory_database_is_shared_by_threads() -> None:
    store = open_store("sqlite:///:memory:")
    run_sync(store.create_session(record()))
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(run_sync(store.get_session("h1"))))
    thread.start()
    thread.join()
    assert seen[0] is not None
    store.close()


def test_short_lived_threads_do_not_leak_connections(store: SQLiteStore) -> None:
    run_sync(store.create_session(record()))
    for _ in range(60):
        thread = threading.Thread(target=lambda: run_sync(store.get_session("h1")))
        thread.start()
        thread.join()
        del thread  # freed here (reference counting): its connection is handed on
    gc.collect()
    # One connection per thread alive at a time, handed on when the thread ends.
    assert store.database.open_connections() <= MAX_IDLE_CONNECTIONS + 1  # type: ignore[attr-defined]


def test_a_lock_held_past_the_busy_timeout_is_unavailable_not_a_raw_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.db"
    store = open_store(f"sqlite:///{path}?busy_timeout=0.2")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StorageUnavailableError, match="locked") as caught:
            run_sync(store.create_session(record()))
        assert caught.value.retry_after_s == 1
        assert run_sync(store.get_session("h1")) is None  # WAL: readers do not wait
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    run_sync(store.create_session(record()))  # the lock is free again
    store.close()


def test_the_command_line_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bastion migrate"):
        open_store(f"sqlite:///{tmp_path / 'nothing.db'}", create=False)
    assert not (tmp_path / "nothing.db").exists()


def test_a_closed_store_raises_instead_of_reopening(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "c.db"))
    run_sync(store.create_session(record()))
    store.close()
    with pytest.raises(StoreClosedError):
        run_sync(store.get_session("h1"))
    seen: list[BaseException] = []

    def other_thread() -> None:
        try:
            store.database.run(Kind.READ, lambda tx: tx.one("SELECT 1"))
        except BaseException as exc:
            seen.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert isinstance(seen[0], StoreClosedError)
    assert store.database.open_connections() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "bastion.db",
        "sqlite:/x",
        "mysql://x",
        "sqlite:///x.db?busy_timeout=soon",
        "sqlite:///x.db?pool_max=3",
    ],
)
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)
