"""KeyStore: signing keys (one per slot, whoever races) and server secrets."""

from __future__ import annotations

from typing import Any

from bastion.core.keys import SigningKey
from bastion.storage.base import Store
from tests.storage.contract.conftest import T0, run


def key(kid: str, sign_from: int = T0, pem: bytes = b"pem") -> SigningKey:
    return SigningKey(kid, pem, sign_from, sign_from + 100, sign_from + 200)


def test_keys_are_listed_oldest_first_with_their_bytes(store: Store) -> None:
    assert run(store.list_signing_keys()) == []
    run(store.add_signing_key(key("d-2", T0 + 2, b"\x00\xffbinary"), slot="2", expired=[]))
    run(store.add_signing_key(key("d-1", T0 + 1), slot="1", expired=[]))
    assert [k.kid for k in run(store.list_signing_keys())] == ["d-1", "d-2"]
    assert run(store.list_signing_keys())[1].private_pem == b"\x00\xffbinary"


def test_a_taken_slot_returns_the_key_already_in_it(store: Store) -> None:
    first = run(store.add_signing_key(key("d-a"), slot="first", expired=[]))
    assert first == key("d-a")
    again = run(store.add_signing_key(key("d-b", T0 + 7), slot="first", expired=[]))
    assert again == key("d-a")
    assert [k.kid for k in run(store.list_signing_keys())] == ["d-a"]


def test_expired_keys_go_before_the_new_one_comes(store: Store) -> None:
    run(store.add_signing_key(key("d-old"), slot="first", expired=[]))
    kept = run(store.add_signing_key(key("d-new", T0 + 1), slot="first", expired=["d-old"]))
    assert kept.kid == "d-new"  # the slot was freed by the expiry in the same transaction
    assert [k.kid for k in run(store.list_signing_keys())] == ["d-new"]


def test_processes_planning_one_key_store_one(store: Store, concurrently: Any) -> None:
    kept = concurrently(
        10, lambda i: store.add_signing_key(key(f"d-{T0 + i}", T0 + i), slot="after:x", expired=[])
    )
    assert len({k.kid for k in kept}) == 1
    assert [k.kid for k in run(store.list_signing_keys())] == [kept[0].kid]


def test_key_material_can_be_resealed(store: Store) -> None:
    run(store.add_signing_key(key("d-1"), slot="1", expired=[]))
    run(store.update_signing_key_material("d-1", b"bx1.sealed"))
    run(store.update_signing_key_material("missing", b"ignored"))
    assert run(store.list_signing_keys())[0].private_pem == b"bx1.sealed"


def test_a_secret_is_created_once_and_shared(store: Store, concurrently: Any) -> None:
    values = concurrently(10, lambda i: store.get_or_create_secret("refresh", bytes([i]) * 32))
    assert len(set(values)) == 1 and len(values[0]) == 32
    assert run(store.get_or_create_secret("refresh", b"other")) == values[0]
    assert run(store.get_or_create_secret("another", b"\x00" * 4)) == b"\x00" * 4
