"""SessionStore: sessions and the refresh-token chain."""

from __future__ import annotations

from typing import Any

from bastion.storage.base import SessionRecord, Store
from tests.storage.contract.conftest import T0, race, run


def record(handle: str = "h1", *, user: str = "u", tenant: str = "public", **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "handle": handle,
        "user_id": user,
        "recipe_user_id": user,
        "tenant_id": tenant,
        "access_payload": {"a": 1, "naïve": ["ü", None]},
        "session_data": {"secret": "x"},
        "current_hash2": "c0",
        "prev_hash2": None,
        "rotated_at_ms": None,
        "created_at_ms": T0,
        "expires_at_ms": T0 + 10_000,
    }
    fields.update(changes)
    return SessionRecord(**fields)


def test_a_session_reads_back_as_written(store: Store) -> None:
    made = record(prev_hash2="p", rotated_at_ms=T0 + 1)
    run(store.create_session(made))
    assert run(store.get_session("h1")) == made
    assert run(store.get_session("nope")) is None


def test_swap_is_a_compare_and_swap(store: Store) -> None:
    run(store.create_session(record()))
    swap = {"new_current": "c1", "new_prev": "c0", "rotated_at_ms": T0 + 5, "expires_at_ms": T0}
    assert run(store.swap_refresh_hash("h1", expected_current="stale", **swap)) is False
    assert run(store.swap_refresh_hash("missing", expected_current="c0", **swap)) is False
    assert run(store.get_session("h1")) == record()  # untouched
    assert run(store.swap_refresh_hash("h1", expected_current="c0", **swap)) is True
    after = run(store.get_session("h1"))
    assert after is not None
    assert (after.current_hash2, after.prev_hash2, after.rotated_at_ms, after.expires_at_ms) == (
        "c1",
        "c0",
        T0 + 5,
        T0,
    )


def test_concurrent_swaps_have_exactly_one_winner(store: Store, concurrently: Any) -> None:
    run(store.create_session(record()))
    wins = concurrently(
        12,
        lambda i: store.swap_refresh_hash(
            "h1",
            expected_current="c0",
            new_current=f"c{i + 1}",
            new_prev="c0",
            rotated_at_ms=T0,
            expires_at_ms=T0 + 1,
        ),
    )
    assert wins.count(True) == 1
    stored = run(store.get_session("h1"))
    assert stored is not None and stored.current_hash2 == f"c{wins.index(True) + 1}"


def test_payload_merge_deletes_with_none_and_reports_a_missing_session(store: Store) -> None:
    run(store.create_session(record()))
    merged = run(store.merge_access_payload("h1", {"b": 2, "a": None}))
    assert merged == {"naïve": ["ü", None], "b": 2}
    stored = run(store.get_session("h1"))
    assert stored is not None and stored.access_payload == merged
    assert run(store.merge_access_payload("missing", {"b": 2})) is None


def test_concurrent_merges_lose_nothing(store: Store, concurrently: Any) -> None:
    run(store.create_session(record()))
    concurrently(16, lambda i: store.merge_access_payload("h1", {f"k{i}": i}))
    stored = run(store.get_session("h1"))
    assert stored is not None
    assert {f"k{i}": i for i in range(16)}.items() <= stored.access_payload.items()


def test_session_data_is_replaced_whole(store: Store) -> None:
    run(store.create_session(record()))
    assert run(store.update_session_data("h1", {"new": True})) is True
    stored = run(store.get_session("h1"))
    assert stored is not None and stored.session_data == {"new": True}
    assert run(store.update_session_data("missing", {})) is False


def test_delete_reports_only_what_existed_once(store: Store, concurrently: Any) -> None:
    for handle in ("a", "b", "c"):
        run(store.create_session(record(handle)))
    assert run(store.delete_sessions([])) == []
    assert sorted(run(store.delete_sessions(["a", "zz", "a"]))) == ["a"]
    reported = concurrently(8, lambda i: store.delete_sessions(["c", "b"] if i % 2 else ["b", "c"]))
    assert sorted(h for handles in reported for h in handles) == ["b", "c"]  # each exactly once
    assert run(store.get_session("b")) is None


def test_listing_a_users_live_sessions(store: Store) -> None:
    run(store.create_session(record("old", created_at_ms=T0 - 5)))
    run(store.create_session(record("new", created_at_ms=T0)))
    run(store.create_session(record("expired", expires_at_ms=T0)))
    run(store.create_session(record("elsewhere", tenant="t2")))
    run(store.create_session(record("someone-else", user="v")))
    live = run(store.list_session_handles("u", tenant_id="public", now_ms=T0))
    assert live == ["old", "new"]
    every_tenant = run(store.list_session_handles("u", tenant_id=None, now_ms=T0))
    assert sorted(every_tenant) == ["elsewhere", "new", "old"]
    assert run(store.list_session_handles("nobody", tenant_id=None, now_ms=T0)) == []


def test_race_helper_drives_units_inline_on_each_thread(store: Store) -> None:
    run(store.create_session(record()))
    found = race(4, lambda i: store.get_session("h1"))
    assert all(f is not None and f.handle == "h1" for f in found)
