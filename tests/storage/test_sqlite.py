"""The SQLite backend: schema, connection handling, atomic writes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bastion.bridge import run_sync
from bastion.errors import ConfigError
from bastion.storage import open_store
from bastion.storage.base import SessionRecord
from bastion.storage.sqlite import SQLiteStore, _migrations


def record(handle: str = "h1", current: str = "c0") -> SessionRecord:
    return SessionRecord(
        handle=handle,
        user_id="u",
        recipe_user_id="u",
        tenant_id="public",
        access_payload={"a": 1},
        session_data={},
        current_hash2=current,
        prev_hash2=None,
        rotated_at_ms=None,
        created_at_ms=1,
        expires_at_ms=10**13,
    )


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(str(tmp_path / "s.db"))
    yield s
    s.close()


def test_schema_is_migrated_once_and_versioned(tmp_path: Path) -> None:
    path = str(tmp_path / "m.db")
    first = SQLiteStore(path)
    latest = max(number for number, _ in _migrations())
    assert first.schema_version() == latest
    run_sync(first.create_session(record()))
    first.close()
    again = SQLiteStore(path)  # re-opening applies nothing and keeps data
    assert again.schema_version() == latest
    assert run_sync(again.get_session("h1")) is not None
    again.close()


def test_wal_mode_and_one_connection_per_thread(store: SQLiteStore) -> None:
    conn = store._connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._connection() is conn  # persistent, not one per call
    other: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: other.append(store._connection()))
    thread.start()
    thread.join()
    assert other[0] is not conn


def test_failed_transaction_leaves_nothing_behind(store: SQLiteStore) -> None:
    run_sync(store.create_session(record("kept")))

    def crash_mid_transaction() -> None:
        with store._write() as conn:
            conn.execute("DELETE FROM sessions")
            raise RuntimeError("crash between statements")

    with pytest.raises(RuntimeError):
        crash_mid_transaction()
    assert run_sync(store.get_session("kept")) is not None


def test_compare_and_swap_has_exactly_one_winner(store: SQLiteStore) -> None:
    run_sync(store.create_session(record()))
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def swap(i: int) -> None:
        barrier.wait()
        wins.append(
            run_sync(
                store.swap_refresh_hash(
                    "h1",
                    expected_current="c0",
                    new_current=f"c{i + 1}",
                    new_prev="c0",
                    rotated_at_ms=5,
                    expires_at_ms=10**13,
                )
            )
        )

    threads = [threading.Thread(target=swap, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_merge_is_atomic_under_concurrency(store: SQLiteStore) -> None:
    run_sync(store.create_session(record()))
    threads = [
        threading.Thread(
            target=lambda i=i: run_sync(store.merge_access_payload("h1", {f"k{i}": i}))
        )
        for i in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    merged = run_sync(store.get_session("h1"))
    assert merged is not None
    assert {f"k{i}" for i in range(20)} <= set(merged.access_payload)


def test_memory_database_is_shared_by_threads() -> None:
    store = open_store("sqlite:///:memory:")
    run_sync(store.create_session(record()))
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(run_sync(store.get_session("h1"))))
    thread.start()
    thread.join()
    assert seen[0] is not None
    store.close()


@pytest.mark.parametrize(
    "url", ["bastion.db", "sqlite:/x", "mysql://x", "postgresql://localhost/db"]
)
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)


def test_short_lived_threads_do_not_leak_connections(store: SQLiteStore) -> None:
    import gc

    from bastion.storage.sqlite import MAX_IDLE_CONNECTIONS

    run_sync(store.create_session(record()))
    for _ in range(60):
        thread = threading.Thread(target=lambda: run_sync(store.get_session("h1")))
        thread.start()
        thread.join()
        del thread
        gc.collect()
    # One connection per thread alive at a time, handed on when the thread ends.
    assert store.open_connections() <= MAX_IDLE_CONNECTIONS + 1
