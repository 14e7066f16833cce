"""MaintenanceStore, and how every unit of work runs: off the event loop, inline when synchronous,
never after the store is closed."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from bastion.errors import StoreClosedError
from bastion.storage import open_store
from bastion.storage.base import Store
from bastion.storage.migrations import migrations
from tests.databases import Databases, rows
from tests.storage.contract.conftest import T0, gather, run
from tests.storage.contract.test_passwordless import device
from tests.storage.contract.test_sessions import record


def fill(store: Store, expired: int, live: int) -> None:
    for i in range(expired):
        run(store.create_session(record(f"x{i}", expires_at_ms=T0 - i)))  # T0 itself is over
        run(
            store.add_token(
                f"tx{i}",
                purpose="p",
                user_id="u",
                email_key="e",
                expires_at_ms=T0,
                now_ms=T0 - 10_000,
            )
        )
        run(
            store.add_passwordless_device(
                device(f"dx{i}", expires_at_ms=T0), purge_expired_before_ms=0
            )
        )
    for i in range(live):
        run(store.create_session(record(f"l{i}", expires_at_ms=T0 + 1)))
        run(
            store.add_token(
                f"tl{i}",
                purpose="p",
                user_id="u",
                email_key="e",
                expires_at_ms=T0 + 1,
                now_ms=T0 - 10_000,
            )
        )


def test_cleanup_deletes_what_expired_in_small_batches(store: Store) -> None:
    fill(store, expired=7, live=2)
    deleted = run(store.delete_expired(T0, batch_size=3))
    assert deleted == {"sessions": 7, "user_tokens": 7, "passwordless_devices": 7}
    assert sorted(r[0] for r in rows(store, "SELECT handle FROM sessions")) == ["l0", "l1"]
    assert sorted(r[0] for r in rows(store, "SELECT token_hash FROM user_tokens")) == ["tl0", "tl1"]
    assert run(store.delete_expired(T0)) == {
        "sessions": 0,
        "user_tokens": 0,
        "passwordless_devices": 0,
    }
    with pytest.raises(ValueError, match="batch_size"):
        run(store.delete_expired(T0, batch_size=0))


def test_cleanups_running_at_once_delete_each_row_once(store: Store) -> None:
    fill(store, expired=12, live=1)
    results = gather(3, lambda i: store.delete_expired(T0, batch_size=2))
    assert sum(r["sessions"] for r in results) == 12
    assert rows(store, "SELECT COUNT(*) FROM sessions") == [(1,)]


def test_under_a_loop_units_run_on_the_stores_threads(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    original = store.database.run  # type: ignore[attr-defined]

    def recording(kind: Any, work: Any) -> Any:
        seen.append(threading.current_thread().name)
        return original(kind, work)

    monkeypatch.setattr(store.database, "run", recording)  # type: ignore[attr-defined]
    assert store._thread_pool is None  # type: ignore[attr-defined]  # nothing made at start

    run(store.create_session(record()))  # synchronously driven: inline, no executor
    assert seen == [threading.current_thread().name]
    assert store._thread_pool is None  # type: ignore[attr-defined]

    async def on_the_loop() -> tuple[str, Any]:
        found = await store.get_session("h1")
        return threading.current_thread().name, found

    loop_thread, found = asyncio.run(on_the_loop())
    assert found is not None
    assert seen[1].startswith("bastion-db") and seen[1] != loop_thread
    size = store._thread_pool._max_workers  # type: ignore[attr-defined]
    assert size == store.database.max_connections  # type: ignore[attr-defined]


def test_a_closed_store_raises_on_both_paths(databases: Databases) -> None:
    store = open_store(databases.fresh())
    assert store.schema_version() == len(migrations("sqlite")) == len(migrations("postgres"))
    run(store.create_session(record()))
    store.close()
    with pytest.raises(StoreClosedError):
        run(store.get_session("h1"))

    async def on_the_loop() -> Any:
        return await store.get_session("h1")

    with pytest.raises(StoreClosedError):
        asyncio.run(on_the_loop())
    store.close()  # closing twice is harmless
